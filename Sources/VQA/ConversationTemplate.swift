import Foundation
import Injection

/// LLaVA's conversation template (`Prompts/vqa/conversation.json`): a system line, the human turn
/// holding `<image>` and `{question}`, the assistant turn holding `{answer}`. Each turn starts with
/// its role name and a colon, which become the turn tokens `<human>` / `<assistant>`; `<image>` is
/// the slot the projected patch features replace.
public struct ConversationTemplate: Codable, Sendable, Equatable {
    public var system: String
    public var human: String
    public var assistant: String

    public init(system: String, human: String, assistant: String) { self.system = system; self.human = human; self.assistant = assistant }

    public struct TemplateError: Error, CustomStringConvertible {
        public let path: String, problem: String
        public var description: String { "\(path): \(problem)" }
    }

    /// `vqa/conversation.json` in the repository's `Prompts/` folder (or `MEDGLIP_PROMPTS`).
    public static func load() throws -> ConversationTemplate {
        try load(PromptFiles.directory().appendingPathComponent("vqa/conversation.json"))
    }

    public static func load(_ url: URL) throws -> ConversationTemplate {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw TemplateError(path: url.path, problem: "no such file") }
        let t: ConversationTemplate
        do { t = try JSONDecoder().decode(ConversationTemplate.self, from: data) } catch {
            throw TemplateError(path: url.path, problem: "expected an object with string fields system, human, assistant (\(error))")
        }
        try t.validate(path: url.path)
        return t
    }

    /// The image must come before the question so every prompt has its image tokens at the same
    /// position (as in LLaVA-Med's template), which lets a batch be fused with one concatenation.
    public func validate(path: String) throws {
        func fail(_ problem: String) -> TemplateError { TemplateError(path: path, problem: problem) }
        guard role(human) != nil, role(assistant) != nil else {
            throw fail("human and assistant turns must start with a role name and a colon, e.g. 'Human: '")
        }
        guard human.components(separatedBy: "<image>").count == 2 else { throw fail("the human turn must hold <image> exactly once") }
        guard let image = human.range(of: "<image>"), let question = human.range(of: "{question}"), image.upperBound <= question.lowerBound else {
            throw fail("the human turn must hold {question} after <image>")
        }
        guard assistant.hasSuffix("{answer}") else { throw fail("the assistant turn must end with {answer}") }
        guard !system.contains("<image>"), !system.contains("{question}") else { throw fail("the system line may not hold <image> or {question}") }
    }

    /// The role name ("Human") and the rest of a turn after "Human:".
    private func role(_ turn: String) -> (name: String, rest: String)? {
        guard let colon = turn.firstIndex(of: ":"), colon > turn.startIndex else { return nil }
        return (String(turn[..<colon]), String(turn[turn.index(after: colon)...]))
    }

    /// The prompt as text, ending where the answer starts (what a reader of the logs sees).
    public func render(question: String, answer: String = "") -> String {
        system + "\n" + human.replacingOccurrences(of: "{question}", with: question) + "\n"
            + assistant.replacingOccurrences(of: "{answer}", with: answer)
    }

    /// Prompt ids: the system words, `<human>`, the human turn with `<image>` as its single image
    /// id, the grounding hint's ids (LLaVA style, between the image and the question) and the
    /// question's words (at most `maxQuestionTokens`), then `<assistant>` and any assistant words
    /// before `{answer}`. Also says whether the question was cut.
    public func promptIDs(question: String, hint: [Int] = [], vocabulary v: VQAVocabulary, maxQuestionTokens: Int) -> (ids: [Int], truncated: Bool) {
        let h = role(human)!.rest, a = role(assistant)!.rest
        let beforeImage = String(h[..<h.range(of: "<image>")!.lowerBound])
        let afterImage = String(h[h.range(of: "<image>")!.upperBound...])
        let beforeQuestion = String(afterImage[..<afterImage.range(of: "{question}")!.lowerBound])
        let afterQuestion = String(afterImage[afterImage.range(of: "{question}")!.upperBound...])
        let q = v.encode(question)
        var ids = v.encode(system) + [VQAVocabulary.human] + v.encode(beforeImage) + [VQAVocabulary.image] + hint
        ids += v.encode(beforeQuestion) + q.prefix(maxQuestionTokens) + v.encode(afterQuestion)
        ids += [VQAVocabulary.assistant] + v.encode(String(a.dropLast("{answer}".count)))
        return (ids, q.count > maxQuestionTokens)
    }

    /// The template's own words, so the vocabulary knows them.
    public var words: [String] {
        [system, role(human)?.rest ?? human, role(assistant)?.rest ?? assistant].map {
            $0.replacingOccurrences(of: "<image>", with: " ").replacingOccurrences(of: "{question}", with: " ").replacingOccurrences(
                of: "{answer}", with: " ")
        }
    }
}
