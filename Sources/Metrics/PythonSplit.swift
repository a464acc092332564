/// Python's string splitting, as pycocoevalcap's scorers call it on the strings given to them.
/// `str.split()` (BLEU, CIDEr) splits on runs of whitespace and drops empty pieces; `str.split(" ")`
/// (ROUGE-L) splits on every single space and keeps empty pieces, so R2Gen's " .  ." runs yield "" tokens.
enum PythonSplit {
    /// `str.split()`: Python's `str.isspace` set is the Unicode White_Space characters plus the
    /// information separators U+001C...U+001F.
    static func whitespace(_ s: String) -> [Substring] {
        s.split(whereSeparator: { ch in ch.unicodeScalars.allSatisfy(isPythonSpace) })
    }

    /// `str.split(" ")`: every space separates, empty pieces kept ("".split(" ") == [""]).
    static func singleSpace(_ s: String) -> [Substring] {
        s.split(separator: " ", omittingEmptySubsequences: false)
    }

    static func isPythonSpace(_ u: Unicode.Scalar) -> Bool {
        u.properties.isWhitespace || (0x1C...0x1F).contains(u.value)
    }
}

/// Maps tokens to small integers once per scoring call, so n-grams hash as fixed-size integer keys
/// instead of arrays of strings (the hot path of BLEU and CIDEr).
struct Vocabulary {
    private var ids: [Substring: Int32] = [:]

    mutating func id(_ token: Substring) -> Int32 {
        if let id = ids[token] { return id }
        let id = Int32(ids.count + 1)  // 0 pads shorter n-grams
        ids[token] = id
        return id
    }

    mutating func ids(_ tokens: [Substring]) -> [Int32] { tokens.map { id($0) } }
}

/// An n-gram of up to four token ids (unused slots 0), the key of every count dictionary.
struct NGram: Hashable {
    var a: Int32, b: Int32 = 0, c: Int32 = 0, d: Int32 = 0

    /// Order 1...4, from the number of filled slots.
    var order: Int { d != 0 ? 4 : c != 0 ? 3 : b != 0 ? 2 : 1 }

    init(_ ids: [Int32], start: Int, length: Int) {
        a = ids[start]
        if length > 1 { b = ids[start + 1] }
        if length > 2 { c = ids[start + 2] }
        if length > 3 { d = ids[start + 3] }
    }
}

/// N-gram counts in first-occurrence order (k = 1...n, then position), the iteration order of the
/// Python `defaultdict` the reference builds; floating-point sums over it then match term by term.
struct NGramCounts {
    private(set) var keys: [NGram] = []
    private(set) var counts: [Int] = []
    private var index: [NGram: Int] = [:]

    init(_ ids: [Int32], maxOrder n: Int = 4) {
        index.reserveCapacity(ids.count * n)
        for k in 1...n where ids.count >= k {
            for i in 0...(ids.count - k) {
                let g = NGram(ids, start: i, length: k)
                if let j = index[g] { counts[j] += 1 } else { index[g] = keys.count; keys.append(g); counts.append(1) }
            }
        }
    }

    subscript(_ g: NGram) -> Int { index[g].map { counts[$0] } ?? 0 }
}
