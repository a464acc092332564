import Foundation
import Text

/// The 14 CheXpert observations, in CheXpert's column order.
public let chexpertObservations = [
    "No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Lesion", "Lung Opacity", "Edema", "Consolidation",
    "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion", "Pleural Other", "Fracture", "Support Devices",
]

/// A rule-based report labeler following the CheXpert labeler's rules (Irvin et al. 2019):
/// mentions per observation (with exclusions), negation and uncertainty cues before and after a
/// mention within its clause (NegEx-style scopes in place of NegBio's dependency parse), and
/// CheXpert's aggregation: any positive mention -> 1, else any uncertain -> -1, else a negated
/// mention -> 0, else blank (nil); No Finding is 1 only when no observation but Support Devices is
/// 1 or -1. Phrase lists and cues live in `Corpora/chexpert/`.
public struct CheXpertLabeler: Sendable {
    struct Qualified: Decodable, Sendable { var anchors: [String]; var positive: [String]; var negative: [String] }
    struct Observation: Decodable, Sendable { var mentions: [String]; var qualified: [Qualified]; var exclude: [String] }
    struct Cues: Decodable, Sendable { var pre: [String]; var post: [String] }
    struct Rules: Decodable, Sendable { var window: Int; var negation: Cues; var uncertainty: Cues; var terminators: [String] }

    /// A phrase as a token sequence.
    typealias Phrase = [Substring]

    struct CompiledObservation: Sendable {
        var name: String
        var mentions: [Phrase]
        var exclude: [Phrase]
        var qualified: [(anchors: [Phrase], positive: [Phrase], negative: [Phrase])]
    }

    let observations: [CompiledObservation]
    let window: Int
    let negPre: [Phrase], negPost: [Phrase], uncPre: [Phrase], uncPost: [Phrase], terminators: [Phrase]

    /// Loads the phrase lists from `Corpora/chexpert/`.
    public init() throws {
        let decoder = JSONDecoder()
        func load<T: Decodable>(_ file: String, _ type: T.Type) throws -> T {
            do { return try decoder.decode(T.self, from: try SpecFiles.data("chexpert/\(file)")) } catch let e as DecodingError {
                throw SpecFiles.NotFound(path: "Corpora/chexpert/\(file)", problem: "cannot be decoded: \(e)")
            }
        }
        var mentionFile = try JSONSerialization.jsonObject(with: SpecFiles.data("chexpert/mentions.json")) as? [String: Any] ?? [:]
        mentionFile["_comment"] = nil
        let raw = try decoder.decode([String: Observation].self, from: JSONSerialization.data(withJSONObject: mentionFile))
        let rules = try load("rules.json", Rules.self)
        // Longest phrases first: a longer mention claims its words before a shorter one inside it.
        let compile = { (list: [String]) in list.map { CheXpertLabeler.tokens($0) }.sorted { $0.count > $1.count } }
        observations = chexpertObservations.dropFirst().map { name in
            let o = raw[name] ?? Observation(mentions: [], qualified: [], exclude: [])
            return CompiledObservation(name: name, mentions: compile(o.mentions), exclude: compile(o.exclude),
                                       qualified: o.qualified.map { (compile($0.anchors), compile($0.positive), compile($0.negative)) })
        }
        window = rules.window
        negPre = compile(rules.negation.pre); negPost = compile(rules.negation.post)
        uncPre = compile(rules.uncertainty.pre); uncPost = compile(rules.uncertainty.post)
        terminators = compile(rules.terminators)
    }

    /// Lower-cased word tokens; hyphenated words stay whole, other punctuation separates.
    static func tokens(_ text: String) -> [Substring] {
        let cleaned = String(text.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "'" ? $0 : " " })
        return cleaned.split(separator: " ")
    }

    /// Sentences: split at . ! ? ; and line breaks (a decimal point stays inside its number).
    static func sentences(_ report: String) -> [String] {
        var out: [String] = [], current = ""
        let chars = Array(report)
        for (i, ch) in chars.enumerated() {
            let decimal = ch == "." && i > 0 && i + 1 < chars.count && chars[i - 1].isNumber && chars[i + 1].isNumber
            if !decimal && ".!?;\n".contains(ch) { out.append(current); current = "" } else { current.append(ch) }
        }
        out.append(current)
        return out.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    /// A sentence's words with the positions of each word, so a phrase is looked up by its first word.
    struct Sentence {
        let words: [Substring]
        let positions: [Substring: [Int]]
        init(_ text: String) {
            words = CheXpertLabeler.tokens(text)
            var p: [Substring: [Int]] = [:]
            for (i, w) in words.enumerated() { p[w, default: []].append(i) }
            positions = p
        }

        /// Start indices where `phrase` occurs.
        func occurrences(_ phrase: Phrase) -> [Int] {
            guard let first = phrase.first, let starts = positions[first] else { return [] }
            return starts.filter { i in i + phrase.count <= words.count && phrase.indices.allSatisfy { words[i + $0] == phrase[$0] } }
        }

        /// Whether any of `phrases` lies entirely within `range`.
        func contains(_ phrases: [Phrase], in range: Range<Int>) -> Bool {
            phrases.contains { p in occurrences(p).contains { $0 >= range.lowerBound && $0 + p.count <= range.upperBound } }
        }
    }

    /// 1, 0 or -1 for a mention at `span` from the cues in its clause.
    func polarity(_ s: Sentence, _ span: Range<Int>, negatable: Bool = true) -> Int {
        var clauseStart = 0, clauseEnd = s.words.count
        for t in terminators {
            for i in s.occurrences(t) {
                if i + t.count <= span.lowerBound { clauseStart = max(clauseStart, i + t.count) }
                if i >= span.upperBound { clauseEnd = min(clauseEnd, i) }
            }
        }
        let before = max(clauseStart, span.lowerBound - window)..<span.lowerBound
        let after = span.upperBound..<max(span.upperBound, min(clauseEnd, span.upperBound + window))
        if s.contains(uncPre, in: before) || s.contains(uncPost, in: after) { return -1 }
        if negatable && (s.contains(negPre, in: before) || s.contains(negPost, in: after)) { return 0 }
        return 1
    }

    /// Mention labels of one observation in one sentence (empty when it is not mentioned).
    func mentions(_ o: CompiledObservation, _ s: Sentence) -> [Int] {
        var excluded = Set<Int>()
        for e in o.exclude { for i in s.occurrences(e) { excluded.formUnion(i..<(i + e.count)) } }
        var covered = Set<Int>(), out: [Int] = []
        // Longer phrases first, so "pleural effusion" is one mention rather than two.
        for m in o.mentions {
            for i in s.occurrences(m) {
                let span = i..<(i + m.count)
                guard !span.contains(where: { excluded.contains($0) || covered.contains($0) }) else { continue }
                covered.formUnion(span)
                out.append(polarity(s, span))
            }
        }
        let all = 0..<s.words.count
        for q in o.qualified {
            for a in q.anchors {
                for i in s.occurrences(a) where !(i..<(i + a.count)).contains(where: covered.contains) {
                    let span = i..<(i + a.count)
                    // A negative qualifier ("not enlarged", "normal") is checked first: it often contains a positive one.
                    let negative = s.contains(q.negative, in: all), positive = s.contains(q.positive, in: all)
                    guard negative || positive else { continue }
                    covered.formUnion(span)
                    // The qualifier decides the polarity; cues can still make it uncertain (or negate a positive one).
                    let p = polarity(s, span, negatable: !negative)
                    out.append(p == -1 ? -1 : (negative ? 0 : p))
                }
            }
        }
        return out
    }

    /// The 14 labels of a report: 1, 0, -1, or nil when not mentioned.
    public func label(_ report: String) -> [String: Int?] {
        var found: [String: [Int]] = [:]
        for text in Self.sentences(report) {
            let sentence = Sentence(text)
            for o in observations { found[o.name, default: []] += mentions(o, sentence) }
        }
        var labels: [String: Int?] = [:]
        for o in observations {
            let m = found[o.name] ?? []
            labels.updateValue(m.contains(1) ? 1 : (m.contains(-1) ? -1 : (m.contains(0) ? 0 : nil)), forKey: o.name)
        }
        let pathology = labels.contains { $0.key != "Support Devices" && ($0.value == 1 || $0.value == -1) }
        labels.updateValue(pathology ? nil : 1, forKey: "No Finding")
        return labels
    }
}
