import Foundation

/// Our merged predictions file (`vqa-eval`'s predictions-<split>.jsonl): one JSON object per line with
/// `question_id` (`qid` in files of older versions), `answer`, `prediction` and `answer_type`.
public enum VQAPredictionFile {
    public static func read(_ url: URL) throws -> [LLaVAMedEval.Question] {
        var questions: [LLaVAMedEval.Question] = []
        for (n, o) in try JSONLines.objects(url) {
            func text(_ keys: String...) throws -> String {
                for k in keys { if let s = o[k] as? String { return s } else if let v = o[k] as? Int { return String(v) } }
                let hint = keys[0] == "prediction" && o["text"] != nil ? " (an answer file of LLaVA-Med's: pass its ground truth with --gt)" : ""
                throw ScoreInputError(path: url.path, problem: "line \(n): missing '\(keys[0])'" + hint)
            }
            let type = try text("answer_type").trimmingCharacters(in: .whitespaces).uppercased()
            guard type == "OPEN" || type == "CLOSED" else {
                throw ScoreInputError(path: url.path, problem: "line \(n): answer_type must be OPEN or CLOSED, got '\(type)'")
            }
            questions.append(
                .init(
                    id: try text("question_id", "qid"), answerType: type, reference: try text("answer"),
                    prediction: try text("prediction")))
        }
        guard !questions.isEmpty else { throw ScoreInputError(path: url.path, problem: "no questions") }
        return questions
    }
}
