import ArgumentParser
import Foundation
import Metrics
import Text

/// `medglip bench metrics`: time of the NLG metrics on the 590 IU-Xray test reports (R2Gen-cleaned),
/// each scored against the next report, the set the pycocoevalcap comparison uses; and of COCO
/// bbox evaluation on 5,000 synthetic images x 100 detections (the pycocotools comparison).
struct MetricsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Time the CheXpert labeler and BLEU/METEOR/ROUGE-L/CIDEr on IU-Xray reports, and COCO evaluation of 5,000 images x 100 detections.")

    @Option(name: .customLong("iu-xray"), help: "R2Gen annotation.json of IU-Xray.")
    var iuXray: String = "../shared/data/iu-xray/annotation.json"

    @Option(help: "Repetitions; the median is reported.")
    var repeats: Int = 5

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(help: "Seconds spent on the COCO measurement (the median of repeated runs is reported).")
    var cocoSeconds: Double = 3.0

    @Option(help: "Write the COCO benchmark's gt.json and dt.json into this folder (to time pycocotools on them) and exit.")
    var writeCocoData: String?

    func run() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        if let writeCocoData {
            let (gt, dts) = cocoBenchmarkData()
            let folder = URL(fileURLWithPath: writeCocoData)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try JSONEncoder().encode(gt).write(to: folder.appendingPathComponent("gt.json"))
            try JSONEncoder().encode(dts).write(to: folder.appendingPathComponent("dt.json"))
            print("wrote \(gt.images.count) images, \(gt.annotations.count) annotations, \(dts.count) detections to \(folder.path)")
            return
        }
        let coco = cocoEvalBenchmarkRows(seconds: cocoSeconds)
        guard FileManager.default.fileExists(atPath: iuXray) else {
            // The NLG half needs the real reports; say so instead of timing something else.
            FileHandle.standardError.write(Data("NLG metrics skipped: IU-Xray annotation not found at \(iuXray) (pass --iu-xray PATH)\n".utf8))
            printCOCO(coco)
            return
        }
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
        // Every report of the annotation (all splits), as written, through the CheXpert labeler.
        let allReports = ["train", "val", "test"].flatMap { (root[$0] as? [[String: Any]] ?? []).compactMap { $0["report"] as? String } }
        let labeler = try CheXpertLabeler()
        var scores: [String: Double] = [:]
        let rows: [(String, Double)] = [
            ("chexpert_label_s", median { for r in allReports { _ = labeler.label(r) } }),
            ("bleu_s", median { _ = BLEU.score(pairs) }),
            ("meteor_s", median { _ = METEOR().score(pairs) }),
            ("rouge_l_s", median { _ = ROUGE.score(pairs) }),
            ("cider_s", median { _ = CIDEr.score(pairs) }),
            ("all_s", median { scores = NLGScores.compute(pairs) })
        ]
        if json {
            let body =
                rows.map { "\"\($0.0)\": \(String(format: "%.4f", $0.1))" } + NLGScores.keys.map { "\"\($0)\": \(scores[$0]!)" }
                + coco.map { "\"\($0.0)\": \(String(format: "%.4f", $0.1))" }
            print("{\"samples\": \(reports.count), \"labelled_reports\": \(allReports.count), " + body.joined(separator: ", ") + "}")
        } else {
            print(
                "IU-Xray test reports: \(reports.count) (hypothesis i = report i+1, R2Gen-cleaned), median of \(repeats); "
                    + "chexpert_label_s labels all \(allReports.count) reports of the annotation")
            for (name, t) in rows { print(name.padding(toLength: 17, withPad: " ", startingAt: 0) + String(format: "%9.4f s", t)) }
            for key in NLGScores.keys { print(key.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: "%9.6f", scores[key]!)) }
            printCOCO(coco)
        }
    }

    private func printCOCO(_ rows: [(String, Double, String)]) {
        if json && rows.count > 0 && !FileManager.default.fileExists(atPath: iuXray) {
            print("{" + rows.map { "\"\($0.0)\": \(String(format: "%.4f", $0.1))" }.joined(separator: ", ") + "}")
            return
        }
        print("COCO bbox evaluation:")
        for (name, value, what) in rows { print(name.padding(toLength: 24, withPad: " ", startingAt: 0) + String(format: "%10.4f  ", value) + what) }
    }
}
