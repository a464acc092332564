import ArgumentParser
import Foundation
import Metrics
import Text

/// `medglip score nlg`: BLEU-1..4, METEOR, ROUGE-L and CIDEr as R2Gen reports them.
/// R2Gen spells the datasets `iu_xray` and `mimic_cxr`, our training commands `iu-xray`, `mimic-cxr`: both are accepted.
extension R2GenCleaning.Dataset: ExpressibleByArgument, CaseIterable {
    public static let allCases: [Self] = [.iuXray, .mimicCXR]
    public init?(argument: String) { self.init(rawValue: argument.replacingOccurrences(of: "-", with: "_")) }
}

struct ScoreNLG: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nlg",
        abstract: "Report-generation metrics: BLEU-1..4, METEOR, ROUGE-L, CIDEr.",
        discussion: """
            References: BLEU, ROUGE-L and CIDEr(-D) reproduce pycocoevalcap 1.2 (bleu_scorer.py with option \
            'closest', rouge.py, cider_scorer.py) to 1e-9/1e-6; METEOR reproduces meteor-1.5.jar \
            (-l en -norm, aggregate score) as pycocoevalcap calls it, without its WordNet synonym and \
            paraphrase stages (about 0.006 lower on IU-Xray reports). Strings are scored as given, as \
            R2Gen does; --tokenize r2gen applies R2Gen's report cleaning to both sides first.
            """)

    @Option(help: "JSON object: id -> reference text (or list of texts).")
    var refs: String

    @Option(help: "JSON object: id -> generated text.")
    var hyps: String

    enum Tokenize: String, ExpressibleByArgument, CaseIterable { case none, r2gen }

    @Option(help: "Text preparation: none (as given) or r2gen (R2Gen's report cleaning).")
    var tokenize: Tokenize = .none

    @Option(help: "Dataset rules for --tokenize r2gen: iu_xray or mimic_cxr (iu-xray and mimic-cxr too).")
    var dataset: R2GenCleaning.Dataset = .iuXray

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        var pairs = try TextPairs.load(references: URL(fileURLWithPath: refs), hypotheses: URL(fileURLWithPath: hyps))
        if tokenize == .r2gen { pairs = pairs.cleaned(dataset) }
        let scores = NLGScores.compute(pairs)
        if json {
            let body = NLGScores.keys.map { "\"\($0)\": \(scores[$0]!)" }
            print("{" + (body + ["\"count\": \(pairs.hypotheses.count)"]).joined(separator: ", ") + "}")
        } else {
            print("samples: \(pairs.hypotheses.count)")
            for key in NLGScores.keys {
                print(key.padding(toLength: 9, withPad: " ", startingAt: 0) + String(format: "%.6f  ", scores[key]!) + NLGScores.references[key]!)
            }
        }
    }
}
