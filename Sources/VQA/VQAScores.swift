import Metrics

/// LLaVA-Med's VQA scores (closed accuracy, open recall, exact match) overall and per category
/// (SLAKE content type, VQA-RAD question type).
public struct VQAScores: Sendable {
    public let overall: VQAScoring.Result
    public let byCategory: [(category: String, result: VQAScoring.Result)]

    public init(_ examples: [VQAExample], predictions: [String]) {
        let items = zip(examples, predictions).map { e, p in
            VQAScoring.Item(
                questionID: e.item.qid, question: e.item.question, answer: e.item.answer, prediction: p, closed: e.item.answerType == .closed)
        }
        overall = VQAScoring.score(items)
        let categories = Dictionary(grouping: zip(examples, items), by: { $0.0.item.category })
        byCategory = categories.keys.sorted().map { ($0, VQAScoring.score(categories[$0]!.map(\.1))) }
    }

    /// What model selection maximises: the mean of closed accuracy and open recall.
    public var selection: Double { (overall.closedAccuracy + overall.openRecall) / 2 }

    public var flat: [String: Double] {
        [
            "closed_accuracy": overall.closedAccuracy, "open_recall": overall.openRecall, "open_exact": overall.openExact,
            "closed_exact": overall.closedExact, "overall_exact": overall.overallExact, "selection": selection
        ]
    }
}
