import Foundation

/// Why a prompt cannot be used.
public struct PromptError: Error, CustomStringConvertible, Equatable {
    public let problem: String
    public var description: String { "prompt: \(problem)" }
}

/// Detection as phrase grounding (GLIP): a modality's concepts joined into one prompt
/// ("nodule. pleural effusion. heart."), each phrase's character span mapped to its tokens.
public struct GroundingPrompt: Sendable, Equatable {
    public static let separator = ". "

    public let phrases: [String]
    public let text: String
    /// Token ids with [CLS] first and [SEP] last.
    public let tokenIDs: [Int]
    /// For each phrase, the positions (in `tokenIDs`) of its tokens: GLIP's positive map T'.
    /// Separators, padding and special tokens belong to no phrase.
    public let positiveMap: [[Int]]

    /// Builds the prompt; fails on an empty phrase list, an empty phrase, or a prompt longer than
    /// `maxTokens` (the text encoder's limit).
    public init(phrases: [String], tokenizer: SubwordTokenizer, maxTokens: Int = 128) throws {
        let cleaned = phrases.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: ".")) }
        guard !cleaned.isEmpty else { throw PromptError(problem: "no phrases to ground") }
        if let empty = cleaned.firstIndex(where: { $0.isEmpty }) { throw PromptError(problem: "phrase \(empty + 1) is empty") }
        var text = "", spans: [Range<Int>] = []
        for p in cleaned {
            let start = text.count
            text += p
            spans.append(start..<text.count)
            text += Self.separator
        }
        text = String(text.dropLast())  // keep the final "." but not the trailing space
        let (ids, tokenSpans) = tokenizer.encode(text)
        guard ids.count + 2 <= maxTokens else {
            throw PromptError(problem: "\(ids.count + 2) tokens exceed the text encoder's limit of \(maxTokens); use fewer or shorter phrases")
        }
        self.phrases = cleaned
        self.text = text
        tokenIDs = [SubwordTokenizer.cls] + ids + [SubwordTokenizer.sep]
        // Token i (offset by [CLS]) belongs to the phrase whose span contains its characters.
        positiveMap = spans.map { span in
            tokenSpans.enumerated().filter { span.contains($0.element.lowerBound) && $0.element.upperBound <= span.upperBound }.map { $0.offset + 1 }
        }
    }

    /// Parses "nodule. pleural effusion. heart." into phrases.
    public init(parsing prompt: String, tokenizer: SubwordTokenizer, maxTokens: Int = 128) throws {
        let phrases = prompt.split(separator: ".").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        try self.init(phrases: phrases, tokenizer: tokenizer, maxTokens: maxTokens)
    }
}
