import ArgumentParser
import Foundation
import Metrics
import Text

/// `medglip score nlg`: BLEU-1..4, METEOR, ROUGE-L and CIDEr as R2Gen reports them.
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

    @Option(help: "Text preparation: 'none' (as given) or 'r2gen' (R2Gen's report cleaning).")
    var tokenize: String = "none"

    @Option(help: "Dataset rules for --tokenize r2gen: iu_xray or mimic_cxr.")
    var dataset: String = "iu_xray"

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        var pairs = try TextPairs.load(references: URL(fileURLWithPath: refs), hypotheses: URL(fileURLWithPath: hyps))
        switch tokenize {
        case "none": break
        case "r2gen":
            guard let d = R2GenCleaning.Dataset(rawValue: dataset) else { throw ValidationError("--dataset must be iu_xray or mimic_cxr") }
            pairs = pairs.cleaned(d)
        default: throw ValidationError("--tokenize must be none or r2gen")
        }
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
