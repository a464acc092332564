import Foundation

/// The ten scores LLaVA-Med's `llava/eval/run_eval.py` prints (microsoft/LLaVA-Med, with its PR #35
/// "fix closed accuracy calculation"), by its rules and under its names:
/// - open questions: "exact match score" (distinct reference words found in the prediction over the
///   prediction's word count), "f1 score", "precision", "recall" (word counts, `calculate_f1score`),
///   "bleu_score" and "bleu_score_1..3" (nltk `sentence_bleu`), "open accuracy" (the candidate answer
///   sharing the largest share of its words with the prediction, first on ties, must equal the reference);
/// - closed questions: "yes/no accuracy": the prediction must contain "yes" or "no" and the reference
///   (substring tests), over every closed question.
/// Each is a mean over questions, times 100. Both sides are lower-cased and `normalize_word`-ed.
public enum LLaVAMedEval {
    public struct Question: Sendable, Equatable {
        public var id: String, answerType: String, reference: String, prediction: String
        public init(id: String, answerType: String, reference: String, prediction: String) {
            self.id = id; self.answerType = answerType; self.reference = reference; self.prediction = prediction
        }
    }

    /// The scores in run_eval.py's order; open ones are nil without open questions (the script
    /// divides by zero there), "open accuracy" also without a candidate list.
    public struct Result: Sendable, Equatable {
        public var scores: [(name: String, value: Double?)]
        public var openCount, closedCount: Int

        public static func == (a: Result, b: Result) -> Bool {
            a.openCount == b.openCount && a.closedCount == b.closedCount
                && a.scores.map(\.name) == b.scores.map(\.name) && a.scores.map(\.value) == b.scores.map(\.value)
        }

        public subscript(name: String) -> Double? { scores.first { $0.name == name }?.value ?? nil }
    }

    public static let names = [
        "exact match score", "f1 score", "precision", "recall", "bleu_score", "bleu_score_1", "bleu_score_2",
        "bleu_score_3", "open accuracy", "yes/no accuracy"
    ]

    public static func evaluate(_ questions: [Question], candidates: [String]?) -> Result {
        var open: [[Double]] = Array(repeating: [], count: 9), closedHits: [Double] = []
        let normalizedCandidates = candidates?.map { VQAScoring.normalize($0) }
        for q in questions {
            let gt = VQAScoring.normalize(q.reference.lowercased()), pred = VQAScoring.normalize(q.prediction.lowercased())
            switch q.answerType {
            case "OPEN":
                let (f1, precision, recall) = f1Score(pred, gt)
                let (ref, hyp) = (words(gt), words(pred))
                let bleu = [[0.25, 0.25, 0.25, 0.25], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]].map {
                    NLTKSentenceBLEU.score(reference: ref, hypothesis: hyp, weights: $0)
                }
                let accuracy = normalizedCandidates.map { openAccuracy(pred, gt, candidates: $0) } ?? 0
                for (i, v) in ([exactMatch(pred, gt), f1, precision, recall] + bleu + [accuracy]).enumerated() { open[i].append(v) }
            case "CLOSED":
                closedHits.append((pred.contains("yes") || pred.contains("no")) && pred.contains(gt) ? 1 : 0)
            default: continue
            }
        }
        func mean(_ x: [Double]) -> Double? { x.isEmpty ? nil : 100 * x.reduce(0, +) / Double(x.count) }
        var values = open.map(mean)
        if candidates == nil { values[8] = nil }
        values.append(mean(closedHits) ?? 0)
        return Result(scores: Array(zip(names, values)).map { (name: $0.0, value: $0.1) }, openCount: open[0].count, closedCount: closedHits.count)
    }

    /// `utils.split_sentence(s, 1)`: lower-cased, whitespace-split words and their counts.
    static func words(_ s: String) -> [String] { s.lowercased().split(whereSeparator: \.isWhitespace).map(String.init) }

    static func counts(_ s: String) -> [String: Int] { words(s).reduce(into: [:]) { $0[$1, default: 0] += 1 } }

    /// `calculate_exactmatch`: distinct reference words present over the prediction's word count.
    static func exactMatch(_ prediction: String, _ reference: String) -> Double {
        let p = counts(VQAScoring.normalize(prediction)), r = counts(VQAScoring.normalize(reference))
        let total = p.values.reduce(0, +)
        return total == 0 ? 0 : Double(r.keys.filter { p[$0] != nil }.count) / Double(total)
    }

    /// `calculate_f1score`: (f1, precision, recall), a shared word counting with the prediction's multiplicity.
    static func f1Score(_ prediction: String, _ reference: String) -> (Double, Double, Double) {
        let p = counts(VQAScoring.normalize(prediction)), r = counts(VQAScoring.normalize(reference))
        guard !p.isEmpty, !r.isEmpty else { return (0, 0, 0) }
        var tp = 0, fp = 0, fn = 0
        for w in Set(p.keys).union(r.keys) {
            switch (p[w], r[w]) {
            case let (n?, _?): tp += n
            case let (n?, nil): fp += n
            case let (nil, n?): fn += n
            case (nil, nil): break
            }
        }
        guard tp > 0 else { return (0, 0, 0) }
        let precision = Double(tp) / Double(tp + fp), recall = Double(tp) / Double(tp + fn)
        return (2 * precision * recall / (precision + recall), precision, recall)
    }

    /// `calculate_appearance_with_normalization` over already normalised candidates.
    static func openAccuracy(_ prediction: String, _ reference: String, candidates: [String]) -> Double {
        guard !candidates.isEmpty else { return 0 }
        let predicted = Set(words(VQAScoring.normalize(prediction)))
        var best = 0, bestSimilarity = -1.0
        for (i, c) in candidates.enumerated() {
            let cw = Set(words(c))
            let similarity = cw.isEmpty ? 0 : Double(predicted.filter(cw.contains).count) / Double(cw.count)
            if similarity > bestSimilarity { (best, bestSimilarity) = (i, similarity) }
        }
        return candidates[best] == VQAScoring.normalize(reference) ? 1 : 0
    }
}
