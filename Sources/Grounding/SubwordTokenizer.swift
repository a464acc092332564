import Foundation

/// The language encoder's tokenizer: byte-pair merges learned from the prompts' vocabulary
/// (Sennrich et al. 2016), so unseen compounds ("hydropneumothorax") share pieces with seen words.
/// Text is lower-cased and split into words and punctuation marks; every token remembers the
/// character range it came from, which the positive map needs.
public struct SubwordTokenizer: Codable, Sendable, Equatable {
    public static let pad = 0, cls = 1, sep = 2, unk = 3
    static let specials = ["[PAD]", "[CLS]", "[SEP]", "[UNK]"]

    /// Token strings by id; a piece that continues a word starts with "##".
    public private(set) var vocabulary: [String]
    /// Merge rules in the order they were learned.
    public private(set) var merges: [[String]]
    private var ids: [String: Int] = [:]
    private var ranks: [String: Int] = [:]

    private enum CodingKeys: String, CodingKey { case vocabulary, merges }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabulary = try c.decode([String].self, forKey: .vocabulary)
        merges = try c.decode([[String]].self, forKey: .merges)
        index()
    }

    public var count: Int { vocabulary.count }

    /// Learns up to `merges` merges from the words of `texts` (each word weighted by its count).
    public init(learningFrom texts: [String], merges maxMerges: Int = 400) {
        var words: [[String]: Int] = [:]
        for text in texts {
            for w in Self.words(text).map(\.text) where w.first?.isLetter == true || w.first?.isNumber == true {
                words[Self.pieces(w), default: 0] += 1
            }
        }
        var learned: [[String]] = []
        while learned.count < maxMerges {
            var pairs: [[String]: Int] = [:]
            for (w, n) in words { for (a, b) in zip(w, w.dropFirst()) { pairs[[a, b], default: 0] += n } }
            // Most frequent pair; ties broken alphabetically so learning is deterministic.
            guard let best = pairs.max(by: { ($0.value, $1.key.joined(separator: " ")) < ($1.value, $0.key.joined(separator: " ")) }),
                best.value >= 2
            else { break }
            learned.append(best.key)
            words = Dictionary(words.map { (Self.merge($0.key, best.key), $0.value) }, uniquingKeysWith: +)
        }
        var vocab = Self.specials + [".", ",", ";", ":", "-", "/", "(", ")"]
        var seen = Set(vocab)
        let alphabet = Set(texts.joined().lowercased().filter { $0.isLetter || $0.isNumber }).sorted()
        for ch in alphabet { for piece in [String(ch), "##" + String(ch)] where seen.insert(piece).inserted { vocab.append(piece) } }
        for m in learned {
            let piece = m[0] + m[1].replacingOccurrences(of: "##", with: "")
            if seen.insert(piece).inserted { vocab.append(piece) }
        }
        vocabulary = vocab
        merges = learned
        index()
    }

    private mutating func index() {
        ids = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($0.element, $0.offset) })
        ranks = Dictionary(uniqueKeysWithValues: merges.enumerated().map { ($0.element.joined(separator: " "), $0.offset) })
    }

    /// A word as characters, continuation characters marked "##".
    static func pieces(_ word: String) -> [String] {
        word.enumerated().map { $0.offset == 0 ? String($0.element) : "##" + String($0.element) }
    }

    static func merge(_ w: [String], _ pair: [String]) -> [String] {
        var out: [String] = [], i = 0
        while i < w.count {
            if i + 1 < w.count && w[i] == pair[0] && w[i + 1] == pair[1] {
                out.append(w[i] + w[i + 1].replacingOccurrences(of: "##", with: "")); i += 2
            } else {
                out.append(w[i]); i += 1
            }
        }
        return out
    }

    /// Words and punctuation marks with their character ranges in `text`.
    static func words(_ text: String) -> [(text: String, range: Range<Int>)] {
        var out: [(String, Range<Int>)] = [], current = "", start = 0
        for (i, ch) in text.lowercased().enumerated() {
            if ch.isLetter || ch.isNumber {
                if current.isEmpty { start = i }
                current.append(ch)
            } else {
                if !current.isEmpty { out.append((current, start..<i)); current = "" }
                if !ch.isWhitespace { out.append((String(ch), i..<(i + 1))) }
            }
        }
        if !current.isEmpty { out.append((current, start..<(start + current.count))) }
        return out
    }

    /// Token ids and the character range of each token (no special tokens added).
    public func encode(_ text: String) -> (ids: [Int], spans: [Range<Int>]) {
        var outIDs: [Int] = [], spans: [Range<Int>] = []
        for (word, range) in Self.words(text) {
            var w = Self.pieces(word)
            // Apply the learned merges in order of rank, as BPE does.
            while w.count > 1 {
                let candidates = zip(w, w.dropFirst()).enumerated().compactMap { i, p in ranks["\(p.0) \(p.1)"].map { (i, $0) } }
                guard let (_, rank) = candidates.min(by: { $0.1 < $1.1 }) else { break }
                w = Self.merge(w, merges[rank])
            }
            var offset = range.lowerBound
            for piece in w {
                let length = piece.hasPrefix("##") ? piece.count - 2 : piece.count
                outIDs.append(ids[piece] ?? Self.unk)
                spans.append(offset..<(offset + length))
                offset += length
            }
        }
        return (outIDs, spans)
    }
}
