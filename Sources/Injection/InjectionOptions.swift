import Tensor

/// How grounding reaches a downstream model (`--grounding`).
public enum InjectionMode: String, Codable, Sendable, CaseIterable {
    case none, tokens, hints, both
    public var usesTokens: Bool { self == .tokens || self == .both }
    public var usesHints: Bool { self == .hints || self == .both }
}

/// Which grounded regions are injected and how.
public struct InjectionOptions: Codable, Sendable, Equatable {
    public var mode: InjectionMode = .none
    /// Where the boxes came from: "oracle" (ground truth) or the grounding run folder.
    public var source = ""
    /// Region tokens per image: the `topK` best of the confident regions.
    public var topK = 8
    public var scoreThreshold: Float = 0.3
    /// Phrases the region tokens have embeddings for (the grounder's categories).
    public var phrases: [String] = []
    /// Words of the hint text (built from the training split's hints); id 0 pads, 1 is unknown.
    public var hintVocabulary: [String] = []
    public var maxHintTokens = 48
    /// Training only: the chance that an image's grounding (its tokens and hints) is withheld for
    /// one step, so the model cannot lean on the hints alone. Off by default: on the SLAKE-format
    /// corpus 0.25 left test accuracy where it was (closed 0.815, open 0.882 against 0.817, 0.885).
    public var dropout: Float = 0
    /// Hints of regions scoring below this start with the templates' hedge word ("possible"), so
    /// the model can learn how far to trust each detection (0: no hedging).
    public var hedgeBelow: Float = 0
    /// Thresholds of single phrases, in place of `scoreThreshold` (`HintQuality.bestThresholds`).
    public var phraseThresholds: [String: Float] = [:]

    public init() {}

    enum CodingKeys: String, CodingKey {
        case mode, source, topK, scoreThreshold, phrases, hintVocabulary, maxHintTokens, dropout, hedgeBelow, phraseThresholds
    }

    /// Runs written before `dropout`, `hedgeBelow` or `phraseThresholds` existed decode without them.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decode(InjectionMode.self, forKey: .mode)
        source = try c.decode(String.self, forKey: .source)
        topK = try c.decode(Int.self, forKey: .topK)
        scoreThreshold = try c.decode(Float.self, forKey: .scoreThreshold)
        phrases = try c.decode([String].self, forKey: .phrases)
        hintVocabulary = try c.decode([String].self, forKey: .hintVocabulary)
        maxHintTokens = try c.decode(Int.self, forKey: .maxHintTokens)
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
        hedgeBelow = try c.decodeIfPresent(Float.self, forKey: .hedgeBelow) ?? 0
        phraseThresholds = try c.decodeIfPresent([String: Float].self, forKey: .phraseThresholds) ?? [:]
    }

    /// Whether to withhold one image's grounding in this training step (`rng` nil: evaluating).
    public func withholds(_ rng: RandomGenerator?) -> Bool {
        guard let rng, dropout > 0, mode != .none else { return false }
        return rng.uniform() < dropout
    }

    /// The lowest score kept for `phrase`.
    public func threshold(for phrase: String) -> Float { phraseThresholds[phrase] ?? scoreThreshold }

    /// Regions scoring at least their phrase's threshold, best first: what the hints describe (all
    /// of them, so anatomy boxes, which get no sentence, never crowd out a finding).
    public func confident(_ regions: [GroundedRegion]) -> [GroundedRegion] {
        regions.filter { $0.score >= threshold(for: $0.phrase) }.sorted { $0.score > $1.score }
    }

    /// The regions that become tokens: the `topK` best confident ones.
    public func select(_ regions: [GroundedRegion]) -> [GroundedRegion] { Array(confident(regions).prefix(topK)) }

    /// Hint sentences as ids: "small nodule in the right upper zone . moderate left pleural effusion ."
    public func hintIDs(_ sentences: [String]) -> [Int] {
        let index = Dictionary(uniqueKeysWithValues: hintVocabulary.enumerated().map { ($1, $0 + 2) })
        let words = sentences.flatMap { $0.split(separator: " ").map(String.init) + ["."] }
        return words.prefix(maxHintTokens).map { index[$0] ?? 1 }
    }

    /// The vocabulary of a set of hint texts, sorted.
    public static func vocabulary(_ sentences: [[String]]) -> [String] {
        Set(sentences.flatMap { $0.flatMap { $0.split(separator: " ").map(String.init) } } + ["."]).sorted()
    }
}
