import ArgumentParser
import Foundation
import Metrics

/// Reads a JSON object mapping id -> report text.
func readReports(_ path: String) throws -> [String: String] {
    guard let data = FileManager.default.contents(atPath: path) else { throw DataError("\(path): no such file") }
    guard let map = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
        throw DataError("\(path): must be a JSON object mapping id to report text")
    }
    guard !map.isEmpty else { throw DataError("\(path): no reports (the object is empty)") }
    return try map.mapValues { value in
        if let s = value as? String { return s }
        if let list = value as? [String], let first = list.first { return first }
        throw DataError("\(path): every value must be a report string")
    }
}

struct LabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Label reports with the 14 CheXpert observations (CheXpert labeler rules; phrase lists in Corpora/chexpert).")

    @Option(help: "JSON object mapping id -> report text.") var reports: String
    @Flag(help: "Print CSV (id, then the 14 observations; blank for not mentioned).") var csv = false
    @Flag(help: "Print one JSON object (id -> observation -> 1, 0, -1 or null).") var json = false
    @Flag(help: "Print, per report, each mention found, its label, the cue that negated or hedged it and the words that cue governed.")
    var explain = false

    func run() throws {
        let labeler = try CheXpertLabeler()
        let texts = try readReports(reports)
        if explain {
            for id in texts.keys.sorted() { print(Self.explanation(id, labeler.explain(texts[id]!))) }
            return
        }
        let labels = texts.mapValues(labeler.label)
        if json {
            try printJSON(labels.mapValues { $0.mapValues { $0.map { $0 as Any } ?? NSNull() } })
        } else {
            // CSV is the default human-facing output, in CheXpert's column order.
            print((["id"] + chexpertObservations).joined(separator: ","))
            for id in labels.keys.sorted() {
                print(([id] + chexpertObservations.map { o in labels[id]![o]!.map(String.init) ?? "" }).joined(separator: ","))
            }
            if !csv && !json { FileHandle.standardError.write(Data("(CSV; --json for JSON)\n".utf8)) }
        }
    }
}

extension LabelCommand {
    /// `id`, then one line per mention: observation, words, label and, for 0 and -1, the cue and its scope.
    static func explanation(_ id: String, _ mentions: [CheXpertLabeler.Mention]) -> String {
        var lines = [id + (mentions.isEmpty ? ": no mention" : "")]
        for m in mentions {
            let label = ["1": "positive", "0": "negative", "-1": "uncertain"]["\(m.decision.label)"]!
            var line = "  \(m.observation): \"\(m.text)\" \(label)"
            if let cue = m.decision.cue, let scope = m.decision.scope {
                line += " (cue \"\(cue)\", scope \"\(m.words[scope].joined(separator: " ").replacingOccurrences(of: " ,", with: ","))\")"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

extension ClinicalEfficacy.UncertainPolicy: ExpressibleByArgument {}
extension VQAScoring.ClosedRule: ExpressibleByArgument {}

struct ScoreCE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ce",
        abstract: "Clinical efficacy: CheXpert-label precision/recall/F1 of generated reports (as R2Gen's and MLRG's compute_ce with scikit-learn).")

    @Option(help: "JSON object mapping id -> reference report.") var refs: String
    @Option(help: "JSON object mapping id -> generated report.") var hyps: String
    @Option(help: "Uncertain labels count as 'negative' (R2Gen) or 'positive' (MLRG).") var uncertain: ClinicalEfficacy.UncertainPolicy = .negative
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let labeler = try CheXpertLabeler()
        let (r, h) = (try readReports(refs), try readReports(hyps))
        let missing = Set(r.keys).subtracting(h.keys)
        guard missing.isEmpty else {
            throw DataError("\(hyps): no generated report for \(missing.count) reference id(s), e.g. \(missing.sorted()[0])")
        }
        let result = ClinicalEfficacy.score(references: r.mapValues(labeler.label), hypotheses: h.mapValues(labeler.label), policy: uncertain)
        func obj(_ p: ClinicalEfficacy.PRF) -> [String: Double] { ["P": p.precision, "R": p.recall, "F1": p.f1] }
        if json {
            try printJSON(
                [
                    "micro": obj(result.micro), "macro": obj(result.macro), "micro5": obj(result.micro5), "macro5": obj(result.macro5),
                    "per_label": result.perLabel.mapValues(obj), "uncertain": uncertain.rawValue
                ] as [String: Any])
        } else {
            print("CE over \(r.count) reports (uncertain -> \(uncertain.rawValue == "negative" ? "0, R2Gen" : "1, MLRG"))")
            for (name, p) in [("micro (14)", result.micro), ("macro (14)", result.macro), ("micro (5)", result.micro5), ("macro (5)", result.macro5)]
            {
                print(
                    name.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: "P %.4f  R %.4f  F1 %.4f", p.precision, p.recall, p.f1))
            }
        }
    }
}

struct ScoreVQA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vqa",
        abstract: "Medical VQA scores: LLaVA-Med's run_eval.py (all ten, by its rules), closed accuracy, open recall and exact match.",
        discussion: """
            Inputs: our merged file (--pred alone: JSON lines {question_id, question, answer, prediction, answer_type}, as vqa-eval \
            writes predictions-<split>.jsonl), or LLaVA-Med's pair (--gt test.json --pred answers.jsonl, as run_eval.py takes them; \
            vqa-eval writes llava-gt-<split>.json and llava-answers-<split>.jsonl). --candidate adds run_eval.py's open accuracy.
            """)

    @Option(help: "Predictions: our merged JSON lines, or with --gt LLaVA-Med's answer file ({question_id, text} per line).") var pred: String
    @Option(help: "LLaVA-Med's ground-truth file (a JSON array of {id, answer_type, conversations}).") var gt: String?
    @Option(help: "LLaVA-Med's candidate answers ({\"0\": [answers]}), for run_eval.py's open accuracy.") var candidate: String?
    @Option(help: "Rule of our closed accuracy: substring (run_eval_batch.py) or yesno (run_eval.py after its PR #35).")
    var closedRule: VQAScoring.ClosedRule = .substring
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let questions =
            try gt.map { try LLaVAMedFiles.read(gt: URL(fileURLWithPath: $0), pred: URL(fileURLWithPath: pred)) }
            ?? VQAPredictionFile.read(URL(fileURLWithPath: pred))
        let candidates = try candidate.map { try LLaVAMedFiles.readCandidates(URL(fileURLWithPath: $0)) }
        let llava = LLaVAMedEval.evaluate(questions, candidates: candidates)
        let r = VQAScoring.score(questions.compactMap(\.scoringItem), rule: closedRule)
        guard r.nOpen + r.nClosed > 0 else { throw ScoreInputError(path: gt ?? pred, problem: "no OPEN or CLOSED question to score") }
        if json {
            let runEval = Dictionary(uniqueKeysWithValues: llava.scores.compactMap { s in s.value.map { (s.name, $0) } })
            try printJSON(
                [
                    "closed_accuracy": r.closedAccuracy, "open_recall": r.openRecall, "open_exact": r.openExact, "closed_exact": r.closedExact,
                    "overall_exact": r.overallExact, "n_open": r.nOpen, "n_closed": r.nClosed, "closed_rule": r.rule.rawValue,
                    "run_eval": runEval
                ] as [String: Any])
            return
        }
        print("LLaVA-Med run_eval.py (with PR #35), x100: \(llava.openCount) open, \(llava.closedCount) closed questions")
        for (name, value) in llava.scores {
            let missing = name == "open accuracy" && candidates == nil ? "(needs --candidate)" : "(no open questions)"
            let text = value.map { String(format: "%.4f", $0) } ?? missing
            print("  " + name.padding(toLength: 18, withPad: " ", startingAt: 0) + text)
        }
        print("ours (LLaVA-Med normalisation; closed rule: \(r.rule.rawValue)), fractions:")
        for (k, v) in [
            ("closed accuracy", r.closedAccuracy), ("open recall", r.openRecall), ("open exact", r.openExact),
            ("closed exact", r.closedExact), ("overall exact", r.overallExact)
        ] {
            print("  " + k.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: "%.4f", v))
        }
    }
}

extension LLaVAMedEval.Question {
    /// The same question for `VQAScoring`; nil for answer types other than OPEN and CLOSED.
    var scoringItem: VQAScoring.Item? {
        guard answerType == "OPEN" || answerType == "CLOSED" else { return nil }
        return VQAScoring.Item(questionID: id, question: "", answer: reference, prediction: prediction, closed: answerType == "CLOSED")
    }
}
