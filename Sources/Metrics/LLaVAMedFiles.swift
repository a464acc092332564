import Foundation

/// LLaVA-Med's evaluation files, as `llava/eval/run_eval.py` reads them: the ground truth (`--gt`, a
/// JSON array of `{id, answer_type, conversations: [{from: human, value: question}, {from: gpt,
/// value: answer}]}`), the answer file (`--pred`, JSON lines `{question_id, text}`, as
/// `model_vqa_med.py` writes it) and the candidate answers (`--candidate`, `{"0": [answers]}`).
public enum LLaVAMedFiles {
    /// Questions with their references and predictions, matched by id (run_eval.py matches by
    /// position and asserts equal id lists; every id of one file must be in the other).
    public static func read(gt: URL, pred: URL) throws -> [LLaVAMedEval.Question] {
        guard let gtData = FileManager.default.contents(atPath: gt.path) else { throw ScoreInputError(path: gt.path, problem: "no such file") }
        guard let array = (try? JSONSerialization.jsonObject(with: gtData)) as? [Any] else {
            throw ScoreInputError(path: gt.path, problem: "must be a JSON array of questions (LLaVA-Med's ground-truth file)")
        }
        var references: [(id: String, type: String, answer: String)] = []
        for (i, element) in array.enumerated() {
            guard let o = element as? [String: Any], let id = idText(o["id"]) else {
                throw ScoreInputError(path: gt.path, problem: "question \(i + 1): no 'id'")
            }
            guard let type = o["answer_type"] as? String else { throw ScoreInputError(path: gt.path, problem: "id \(id): no 'answer_type'") }
            guard let turns = (o["conversations"] ?? o["conversatons"]) as? [[String: Any]], turns.count >= 2,
                let answer = turns[1]["value"] as? String
            else {
                throw ScoreInputError(path: gt.path, problem: "id \(id): 'conversations' needs a second turn with a 'value' (the answer)")
            }
            references.append((id, type, answer))
        }
        let predictions = try readAnswers(pred)
        var seen = Set<String>()
        for r in references where !seen.insert(r.id).inserted { throw ScoreInputError(path: gt.path, problem: "id \(r.id) appears twice") }
        let missing = references.map(\.id).filter { predictions[$0] == nil }
        guard missing.isEmpty else {
            let examples = missing.prefix(3).joined(separator: ", ")
            let problem = "no answer for \(missing.count) question id(s) of \(gt.lastPathComponent), e.g. \(examples)"
            throw ScoreInputError(path: pred.path, problem: problem)
        }
        let extra = Set(predictions.keys).subtracting(seen).sorted()
        guard extra.isEmpty else {
            let examples = extra.prefix(3).joined(separator: ", ")
            throw ScoreInputError(path: pred.path, problem: "\(extra.count) answer id(s) not in \(gt.lastPathComponent), e.g. \(examples)")
        }
        guard !references.isEmpty else { throw ScoreInputError(path: gt.path, problem: "no questions") }
        return references.map { LLaVAMedEval.Question(id: $0.id, answerType: $0.type, reference: $0.answer, prediction: predictions[$0.id]!) }
    }

    /// `{"0": [answers]}`; numbers are read as their text, as run_eval.py's `str(int)`.
    public static func readCandidates(_ url: URL) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ScoreInputError(path: url.path, problem: "no such file") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let list = object["0"] as? [Any] else {
            throw ScoreInputError(path: url.path, problem: "must be a JSON object {\"0\": [candidate answers]}")
        }
        let answers = list.compactMap(idText)
        guard answers.count == list.count, !answers.isEmpty else {
            throw ScoreInputError(path: url.path, problem: "candidates must be a non-empty list of strings or integers")
        }
        return answers
    }

    static func readAnswers(_ url: URL) throws -> [String: String] {
        var answers: [String: String] = [:]
        for (n, o) in try JSONLines.objects(url) {
            guard let id = idText(o["question_id"]), let text = o["text"] as? String else {
                throw ScoreInputError(path: url.path, problem: "line \(n): needs 'question_id' and 'text' (LLaVA-Med's answer file)")
            }
            guard answers.updateValue(text, forKey: id) == nil else {
                throw ScoreInputError(path: url.path, problem: "line \(n): question_id \(id) answered twice")
            }
        }
        return answers
    }

    /// An id or answer as text: strings as they are, integers in decimal.
    static func idText(_ value: Any?) -> String? {
        if let s = value as? String { return s }
        if let n = value as? Int { return String(n) }
        return nil
    }

    /// The ground-truth file for `questions` (`id`, `image`, `answer_type`, `conversations`), so
    /// run_eval.py can score our predictions.
    public static func groundTruth(_ questions: [(id: String, image: String, question: String, answer: String, answerType: String)]) throws -> Data {
        let array: [[String: Any]] = questions.map { q in
            [
                "id": q.id, "image": q.image, "answer_type": q.answerType,
                "conversations": [["from": "human", "value": q.question], ["from": "gpt", "value": q.answer]]
            ]
        }
        return try JSONSerialization.data(withJSONObject: array, options: [.sortedKeys, .prettyPrinted])
    }

    /// The answer file (`question_id`, `prompt`, `text`, `model_id`), one JSON object per line.
    public static func answers(_ rows: [(id: String, prompt: String, text: String)], model: String) throws -> Data {
        let lines = try rows.map { r in
            String(
                decoding: try JSONSerialization.data(
                    withJSONObject: ["question_id": r.id, "prompt": r.prompt, "text": r.text, "model_id": model],
                    options: [.sortedKeys]), as: UTF8.self)
        }
        return Data((lines.joined(separator: "\n") + "\n").utf8)
    }
}
