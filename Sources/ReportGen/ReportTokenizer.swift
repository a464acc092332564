import Text

/// R2Gen's tokenizer (`modules/tokenizers.py`): reports cleaned with the dataset's rules, split on
/// spaces; the vocabulary is every training token seen at least `threshold` times plus `<unk>`,
/// sorted, numbered from 1. Id 0 is begin, end and padding at once, as in R2Gen.
public struct ReportTokenizer: Codable, Sendable, Equatable {
    public static let boundary = 0
    public let cleaning: R2GenCleaning.Dataset
    public let idToToken: [String]
    private let tokenToId: [String: Int]

    public init(trainingReports: [String], dataset: R2GenCleaning.Dataset, threshold: Int) {
        var counts: [String: Int] = [:]
        for report in trainingReports {
            for token in R2GenCleaning.clean(report, dataset: dataset).split(separator: " ") { counts[String(token), default: 0] += 1 }
        }
        // Python sorts str by code point, which is UTF-8 byte order.
        let vocab = (counts.filter { $0.value >= threshold }.map(\.key) + ["<unk>"]).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        self.init(cleaning: dataset, vocabulary: vocab)
    }

    init(cleaning: R2GenCleaning.Dataset, vocabulary: [String]) {
        self.cleaning = cleaning
        idToToken = [""] + vocabulary
        tokenToId = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, $0 + 1) })
    }

    private enum CodingKeys: String, CodingKey { case cleaning, vocabulary }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let cleaning = R2GenCleaning.Dataset(rawValue: try c.decode(String.self, forKey: .cleaning)) else {
            throw DecodingError.dataCorruptedError(forKey: .cleaning, in: c, debugDescription: "unknown cleaning rules")
        }
        self.init(cleaning: cleaning, vocabulary: try c.decode([String].self, forKey: .vocabulary))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cleaning.rawValue, forKey: .cleaning)
        try c.encode(Array(idToToken.dropFirst()), forKey: .vocabulary)
    }

    /// Ids including the output layer's boundary id 0.
    public var vocabularySize: Int { idToToken.count }

    public func clean(_ report: String) -> String { R2GenCleaning.clean(report, dataset: cleaning) }

    /// `[0] + ids + [0]`, truncated to `maxLength` as R2Gen's dataset does (which may drop the end).
    public func encode(_ report: String, maxLength: Int) -> [Int] { encode(cleaned: clean(report), maxLength: maxLength) }

    /// `encode` of a report `clean` already cleaned.
    public func encode(cleaned: String, maxLength: Int) -> [Int] {
        let unknown = tokenToId["<unk>"]!
        let ids = cleaned.split(separator: " ").map { tokenToId[String($0)] ?? unknown }
        return Array(([Self.boundary] + ids + [Self.boundary]).prefix(maxLength))
    }

    /// Tokens up to the first boundary id, joined by spaces.
    public func decode(_ ids: [Int]) -> String {
        ids.prefix { $0 != Self.boundary }.map { idToToken[$0] }.joined(separator: " ")
    }
}
