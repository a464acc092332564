import Foundation

/// A word-level vocabulary built from the training questions and answers, with special tokens for
/// padding, unknown words, the image, the two conversation turns and the end of the answer.
/// Words are lowercased; punctuation at a word's edges becomes its own token.
public struct VQAVocabulary: Codable, Sendable, Equatable {
    public static let pad = 0, unknown = 1, image = 2, human = 3, assistant = 4, endOfAnswer = 5
    static let specials = ["<pad>", "<unk>", "<image>", "<human>", "<assistant>", "<eos>"]
    static let edgePunctuation: Set<Character> = ["?", ",", ".", ";", ":", "!", "\"", "(", ")"]

    public let words: [String]
    /// The answer classes of the classify head: every distinct normalised training answer, sorted.
    public let answers: [String]

    private let index: [String: Int]

    public init(questions: [String], answers: [String], extraText: [String] = []) {
        let seen = Set((questions + answers + extraText).flatMap(Self.tokenize))
        self.init(words: Self.specials + seen.subtracting(Self.specials).sorted(), answers: Set(answers.map(Self.normalizeAnswer)).sorted())
    }

    init(words: [String], answers: [String]) {
        self.words = words; self.answers = answers
        index = Dictionary(words.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    }

    private enum CodingKeys: String, CodingKey { case words, answers }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let words = try c.decode([String].self, forKey: .words)
        guard Array(words.prefix(Self.specials.count)) == Self.specials else {
            throw DecodingError.dataCorruptedError(forKey: .words, in: c, debugDescription: "the vocabulary must start with \(Self.specials)")
        }
        self.init(words: words, answers: try c.decode([String].self, forKey: .answers))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(words, forKey: .words); try c.encode(answers, forKey: .answers)
    }

    public var count: Int { words.count }

    /// The classify head's class of an answer, nil when training never saw it.
    public func answerClass(_ answer: String) -> Int? {
        answers.firstIndex(of: Self.normalizeAnswer(answer))
    }

    /// Lowercased words with edge punctuation split off: "Is it normal?" -> ["is", "it", "normal", "?"].
    public static func tokenize(_ text: String) -> [String] {
        var out: [String] = []
        for raw in text.lowercased().split(whereSeparator: \.isWhitespace) {
            var word = Substring(raw), trailing: [String] = []
            while let c = word.first, edgePunctuation.contains(c) { out.append(String(c)); word = word.dropFirst() }
            while let c = word.last, edgePunctuation.contains(c) { trailing.insert(String(c), at: 0); word = word.dropLast() }
            if !word.isEmpty { out.append(String(word)) }
            out += trailing
        }
        return out
    }

    /// How answers are compared and classified: tokenized and rejoined, so "Yes " and "yes" are one class.
    public static func normalizeAnswer(_ answer: String) -> String { join(tokenize(answer)) }

    /// Ids of `text`'s words; words not in the vocabulary become `<unk>`.
    public func encode(_ text: String) -> [Int] {
        Self.tokenize(text).map { index[$0] ?? Self.unknown }
    }

    /// Words up to the end of the answer, punctuation attached to the word before it.
    public func decode(_ ids: [Int]) -> String {
        Self.join(ids.prefix { $0 != Self.endOfAnswer }.filter { $0 != Self.pad }.map { words[$0] })
    }

    static func join(_ tokens: [String]) -> String {
        var out = ""
        for t in tokens {
            if !out.isEmpty && !(t.count == 1 && edgePunctuation.contains(t.first!)) { out += " " }
            out += t
        }
        return out
    }
}
