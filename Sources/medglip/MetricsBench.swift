import ArgumentParser
import Foundation
import Metrics
import Text

/// `medglip bench metrics`: time of the NLG metrics on the 590 IU-Xray test reports (R2Gen-cleaned),
/// each scored against the next report, the set the pycocoevalcap comparison uses.
struct MetricsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Time BLEU/METEOR/ROUGE-L/CIDEr on the IU-Xray test reports (needs the real annotation.json).")

    @Option(name: .customLong("iu-xray"), help: "R2Gen annotation.json of IU-Xray.")
    var iuXray: String = "../shared/data/iu-xray/annotation.json"

    @Option(help: "Repetitions; the median is reported.")
    var repeats: Int = 5

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        guard FileManager.default.fileExists(atPath: iuXray) else {
            throw ValidationError("IU-Xray annotation not found at \(iuXray): the benchmark needs the real reports (pass --iu-xray PATH)")
        }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: iuXray)))
        guard let root = object as? [String: Any], let test = root["test"] as? [[String: Any]], !test.isEmpty else {
            throw ValidationError("\(iuXray): expected an R2Gen annotation with a non-empty 'test' split")
        }
        let reports = test.map { R2GenCleaning.clean($0["report"] as? String ?? "", dataset: .iuXray) }
        var refs: [String: [String]] = [:], hyps: [String: String] = [:]
        for i in reports.indices { refs[String(i)] = [reports[i]]; hyps[String(i)] = reports[(i + 1) % reports.count] }
        let pairs = TextPairs(references: refs, hypotheses: hyps)

        func median(_ body: () -> Void) -> Double {
            var times: [Double] = []
            for _ in 0..<repeats {
                let t0 = DispatchTime.now().uptimeNanoseconds
                body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            return times.sorted()[times.count / 2]
        }
        var scores: [String: Double] = [:]
        let rows: [(String, Double)] = [
            ("bleu_s", median { _ = BLEU.score(pairs) }),
            ("meteor_s", median { _ = METEOR().score(pairs) }),
            ("rouge_l_s", median { _ = ROUGE.score(pairs) }),
            ("cider_s", median { _ = CIDEr.score(pairs) }),
            ("all_s", median { scores = NLGScores.compute(pairs) }),
        ]
        if json {
            let body = rows.map { "\"\($0.0)\": \(String(format: "%.4f", $0.1))" } + NLGScores.keys.map { "\"\($0)\": \(scores[$0]!)" }
            print("{\"samples\": \(reports.count), " + body.joined(separator: ", ") + "}")
        } else {
            print("IU-Xray test reports: \(reports.count) (hypothesis i = report i+1, R2Gen-cleaned), median of \(repeats)")
            for (name, t) in rows { print(name.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: "%9.4f s", t)) }
            for key in NLGScores.keys { print(key.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: "%9.6f", scores[key]!)) }
        }
    }
}
