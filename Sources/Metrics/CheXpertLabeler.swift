import Foundation
import Text

/// The 14 CheXpert observations, in CheXpert's column order.
public let chexpertObservations = [
    "No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Lesion", "Lung Opacity", "Edema", "Consolidation",
    "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion", "Pleural Other", "Fracture", "Support Devices"
]

/// A rule-based report labeler following the CheXpert labeler's rules (Irvin et al. 2019):
/// mentions per observation (with exclusions); negation and uncertainty cues whose scope follows the
/// sentence's structure, in place of NegBio's dependency parse: a cue before a mention governs it
/// when only its noun phrase or a coordinated list lies between them ("no A, B, or C is seen"), and
/// a cue after it likewise ("A, B or C is not seen"); a scope stops at a clause boundary ("but",
/// "however", "there is", a comma opening a new clause) and at a predicate ("is", "seen", "present"),
/// and pseudo-negations ("no change in") are not cues. CheXpert's aggregation: any positive mention
/// -> 1, else any uncertain -> -1, else a negated mention -> 0, else blank (nil); No Finding is 1 only
/// when no observation but Support Devices is 1 or -1. Phrase lists and cues live in `Corpora/chexpert/`.
public struct CheXpertLabeler: Sendable {
    struct Qualified: Decodable, Sendable { var anchors: [String]; var positive: [String]; var negative: [String] }
    struct Observation: Decodable, Sendable { var mentions: [String]; var qualified: [Qualified]; var exclude: [String] }
    struct Cues: Decodable, Sendable { var pre: [String]; var post: [String] }
    struct Rules: Decodable, Sendable {
        var window: Int; var negation: Cues; var uncertainty: Cues; var terminators: [String]
        var pseudoNegations: [String]; var predicates: [String]; var copulas: [String]; var coordinators: [String]; var clauseOpeners: [String]
        var negationBreakers: [String]
    }

    /// A phrase as a token sequence.
    typealias Phrase = [Substring]

    struct CompiledObservation: Sendable {
        var name: String
        var mentions: [Phrase]
        var exclude: [Phrase]
        var qualified: [(anchors: [Phrase], positive: [Phrase], negative: [Phrase])]
    }

    let observations: [CompiledObservation]
    /// First word of every mention and anchor -> the observations it may start, so a sentence is
    /// matched only against the observations its words can start.
    let firstWords: [Substring: [Int]]
    let window: Int
    let negPre: [Phrase], negPost: [Phrase], uncPre: [Phrase], uncPost: [Phrase], terminators: [Phrase], pseudoNegations: [Phrase]
    let predicates: Set<Substring>, copulas: Set<Substring>, coordinators: Set<Substring>, clauseOpeners: Set<Substring>
    let negationBreakers: Set<Substring>

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
            return CompiledObservation(
                name: name, mentions: compile(o.mentions), exclude: compile(o.exclude),
                qualified: o.qualified.map { (compile($0.anchors), compile($0.positive), compile($0.negative)) })
        }
        var index: [Substring: Set<Int>] = [:]
        for (k, o) in observations.enumerated() {
            for phrase in o.mentions + o.qualified.flatMap(\.anchors) { if let first = phrase.first { index[first, default: []].insert(k) } }
        }
        firstWords = index.mapValues { $0.sorted() }
        window = rules.window
        negPre = compile(rules.negation.pre); negPost = compile(rules.negation.post)
        uncPre = compile(rules.uncertainty.pre); uncPost = compile(rules.uncertainty.post)
        terminators = compile(rules.terminators)
        pseudoNegations = compile(rules.pseudoNegations)
        func words(_ list: [String]) -> Set<Substring> { Set(list.map { Substring($0) }) }
        predicates = words(rules.predicates); copulas = words(rules.copulas)
        coordinators = words(rules.coordinators); clauseOpeners = words(rules.clauseOpeners)
        negationBreakers = words(rules.negationBreakers)
    }

    /// Lower-cased word tokens and commas (a list's structure); hyphenated words stay whole, other
    /// punctuation separates.
    static func tokens(_ text: String) -> [Substring] {
        let cleaned = text.lowercased().flatMap { c -> [Character] in
            c.isLetter || c.isNumber || c == "-" || c == "'" ? [c] : (c == "," ? [" ", ",", " "] : [" "])
        }
        return String(cleaned).split(separator: " ")
    }

    /// Sentences: split at . ! ? ; parentheses and line breaks (a decimal point stays inside its number).
    static func sentences(_ report: String) -> [String] {
        var out: [String] = [], current = ""
        let chars = Array(report)
        for (i, ch) in chars.enumerated() {
            let decimal = ch == "." && i > 0 && i + 1 < chars.count && chars[i - 1].isNumber && chars[i + 1].isNumber
            if !decimal && ".!?;\n()".contains(ch) { out.append(current); current = "" } else { current.append(ch) }
        }
        out.append(current)
        return out.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    /// A sentence's words with the positions of each word, so a phrase is looked up by its first word.
    final class Sentence {
        let words: [Substring]
        let positions: [Substring: [Int]]
        /// Where each cue list's phrases occur, found once per sentence (`CueList` raw value -> occurrences).
        private var found: [Int: [(start: Int, phrase: Phrase)]] = [:]

        init(_ text: String) {
            words = CheXpertLabeler.tokens(text)
            var p: [Substring: [Int]] = [:]
            for (i, w) in words.enumerated() { p[w, default: []].append(i) }
            positions = p
        }

        func occurrences(of list: CueList, _ phrases: [Phrase]) -> [(start: Int, phrase: Phrase)] {
            if let done = found[list.rawValue] { return done }
            let all = phrases.flatMap { p in occurrences(p).map { (start: $0, phrase: p) } }
            found[list.rawValue] = all
            return all
        }

        /// Start indices where `phrase` occurs.
        func occurrences(_ phrase: Phrase) -> [Int] {
            guard let first = phrase.first, let starts = positions[first] else { return [] }
            return starts.filter { i in i + phrase.count <= words.count && phrase.indices.allSatisfy { words[i + $0] == phrase[$0] } }
        }
    }

    enum CueList: Int { case negationBefore, negationAfter, uncertaintyBefore, uncertaintyAfter, terminators, pseudoNegations }

    /// What decided a mention's label: the cue (nil for a plain positive mention) and the words it governed.
    public struct Decision: Sendable, Equatable {
        public var label: Int
        public var cue: String?
        public var scope: Range<Int>?
    }

    /// The clause around `span`: bounded by terminators ("but", "however", "there is", ...).
    func clause(_ s: Sentence, _ span: Range<Int>) -> Range<Int> {
        var start = 0, end = s.words.count
        for (i, t) in s.occurrences(of: .terminators, terminators) {
            if i + t.count <= span.lowerBound { start = max(start, i + t.count) }
            if i >= span.upperBound { end = min(end, i) }
        }
        return start..<end
    }

    /// Whether a cue reaches across `gap` (the words between it and the mention). Neither direction
    /// crosses a predicate ("present", "seen"), a comma that opens a new clause ("..., the heart") or
    /// the window; a cue before the mention also stops at a copula ("no effusion is seen, heart is
    /// enlarged"), and a cue after it crosses a comma only within a coordinated list ("A, B or C is
    /// not seen", not "cardiomegaly, lungs are normal").
    func reaches(_ s: Sentence, across gap: Range<Int>, forward: Bool, negation: Bool, masked: Set<Int>) -> Bool {
        guard gap.count <= window else { return false }
        var sinceComma: [Substring]? = nil
        for i in gap {
            let w = s.words[i]
            // A pseudo-negation between them ("suggesting no progression of the nodule") is what the cue is about.
            if masked.contains(i) { return false }
            if predicates.contains(w) || (forward && copulas.contains(w)) || (negation && negationBreakers.contains(w)) { return false }
            if w == "," {
                if i + 1 < s.words.count, clauseOpeners.contains(s.words[i + 1]) { return false }
                sinceComma = []
            } else {
                sinceComma?.append(w)
            }
        }
        if !forward, let after = sinceComma, !after.contains(where: coordinators.contains) { return false }
        return true
    }

    /// The cue of `cues` that governs `span` from before it (`forward`) or after it, if any.
    func governingCue(
        _ s: Sentence, _ span: Range<Int>, _ list: CueList, forward: Bool, clause: Range<Int>,
        masked: Set<Int> = []
    ) -> (cue: Phrase, scope: Range<Int>)? {
        var best: (cue: Phrase, scope: Range<Int>)?
        let negation = list == .negationBefore || list == .negationAfter
        let cues =
            switch list {
            case .negationBefore: negPre
            case .negationAfter: negPost
            case .uncertaintyBefore: uncPre
            case .uncertaintyAfter: uncPost
            case .terminators: terminators
            case .pseudoNegations: pseudoNegations
            }
        for (i, cue) in s.occurrences(of: list, cues) where !(i..<(i + cue.count)).contains(where: masked.contains) {
            do {
                let end = i + cue.count
                // An alternative ("atelectasis or scarring", "and/or") hedges only the word next to it.
                let alternative = coordinators.contains(forward ? cue.last! : cue.first!)
                if alternative && (forward ? end != span.lowerBound : i != span.upperBound) { continue }
                if forward, i >= clause.lowerBound, end <= span.lowerBound,
                    reaches(s, across: end..<span.lowerBound, forward: true, negation: negation, masked: masked)
                {
                    if best.map({ $0.scope.lowerBound < i }) ?? true { best = (cue, i..<span.upperBound) }
                }
                if !forward, i >= span.upperBound, end <= clause.upperBound,
                    reaches(s, across: span.upperBound..<i, forward: false, negation: negation, masked: masked)
                {
                    if best.map({ $0.scope.upperBound > end }) ?? true { best = (cue, span.lowerBound..<end) }
                }
            }
        }
        return best
    }

    /// The label of a mention at `span` from the nearest cue before it and the nearest after it that
    /// reach it (a nearer cue starts its own scope: "suggestive of X, without A or B" leaves A and B
    /// to "without"): uncertain if either is an uncertainty cue ("no ... cannot be excluded"), else
    /// negative if either negates, else positive.
    func decide(_ s: Sentence, _ span: Range<Int>, negatable: Bool = true) -> Decision {
        let clause = clause(s, span)
        // Pseudo-negations ("no change in", "not changed") hide the negation words inside them.
        var masked = Set<Int>()
        for (i, p) in s.occurrences(of: .pseudoNegations, pseudoNegations) { masked.formUnion(i..<(i + p.count)) }
        var found: [(label: Int, cue: Phrase, scope: Range<Int>)] = []
        for forward in [true, false] {
            let uncertain = governingCue(s, span, forward ? .uncertaintyBefore : .uncertaintyAfter, forward: forward, clause: clause, masked: masked)
            let negated =
                negatable
                ? governingCue(s, span, forward ? .negationBefore : .negationAfter, forward: forward, clause: clause, masked: masked) : nil
            // The nearer of the two on this side.
            switch (uncertain, negated) {
            case let (u?, n?):
                let uNearer = forward ? u.scope.lowerBound >= n.scope.lowerBound : u.scope.upperBound <= n.scope.upperBound
                found.append(uNearer ? (-1, u.cue, u.scope) : (0, n.cue, n.scope))
            case let (u?, nil): found.append((-1, u.cue, u.scope))
            case let (nil, n?): found.append((0, n.cue, n.scope))
            case (nil, nil): break
            }
        }
        guard let pick = found.first(where: { $0.label == -1 }) ?? found.first else { return Decision(label: 1, cue: nil, scope: nil) }
        // A hedge under a negation is negated: "no opacity to suggest pneumonia".
        if pick.label == -1, negatable, pick.scope.lowerBound < span.lowerBound {
            let hedge = pick.scope.lowerBound..<(pick.scope.lowerBound + pick.cue.count)
            if let negation = governingCue(s, hedge, .negationBefore, forward: true, clause: clause, masked: masked) {
                return Decision(label: 0, cue: negation.cue.joined(separator: " "), scope: negation.scope.lowerBound..<span.upperBound)
            }
        }
        return Decision(label: pick.label, cue: pick.cue.joined(separator: " "), scope: pick.scope)
    }

    /// One mention: its observation, words and what decided its label.
    public struct Mention: Sendable, Equatable {
        public var observation: String
        public var text: String
        public var decision: Decision
        /// The sentence's words, so `decision.scope` can be shown.
        public var words: [String]
    }

    /// Mentions of one observation in one sentence, each with its decision (empty when it is not mentioned).
    func mentions(_ o: CompiledObservation, _ s: Sentence) -> [(span: Range<Int>, decision: Decision)] {
        var excluded = Set<Int>()
        for e in o.exclude { for i in s.occurrences(e) { excluded.formUnion(i..<(i + e.count)) } }
        var covered = Set<Int>(), out: [(span: Range<Int>, decision: Decision)] = []
        // Longer phrases first, so "pleural effusion" is one mention rather than two.
        for m in o.mentions {
            for i in s.occurrences(m) {
                let span = i..<(i + m.count)
                guard !span.contains(where: { excluded.contains($0) || covered.contains($0) }) else { continue }
                covered.formUnion(span)
                out.append((span, decide(s, span)))
            }
        }
        for q in o.qualified {
            for a in q.anchors {
                for i in s.occurrences(a) where !(i..<(i + a.count)).contains(where: covered.contains) {
                    let span = i..<(i + a.count)
                    // The qualifier nearest the anchor in its clause decides ("heart size is mildly
                    // enlarged, vascularity within normal limits"); a negative one wins a tie, since it
                    // often contains a positive one ("not enlarged").
                    let clause = clause(s, span)
                    func nearest(_ phrases: [Phrase]) -> (distance: Int, phrase: Phrase)? {
                        phrases.flatMap { p in
                            s.occurrences(p).filter { clause.contains($0) && clause.contains($0 + p.count - 1) }.map { i in
                                (distance: i >= span.upperBound ? i - span.upperBound : max(0, span.lowerBound - (i + p.count)), phrase: p)
                            }
                        }.min { $0.distance < $1.distance }
                    }
                    let negativeQualifier = nearest(q.negative), positiveQualifier = nearest(q.positive)
                    guard negativeQualifier != nil || positiveQualifier != nil else { continue }
                    let negative = negativeQualifier.map { n in positiveQualifier.map { n.distance <= $0.distance } ?? true } ?? false
                    covered.formUnion(span)
                    // The qualifier decides the polarity; cues can still make it uncertain (or negate a positive one).
                    var d = decide(s, span, negatable: !negative)
                    if negative && d.label != -1 {
                        d = Decision(label: 0, cue: negativeQualifier!.phrase.joined(separator: " "), scope: clause)
                    }
                    out.append((span, d))
                }
            }
        }
        return out
    }

    /// The observations whose mentions or anchors could start at one of the sentence's words, in order.
    func candidates(_ s: Sentence) -> [CompiledObservation] {
        var hit = Set<Int>()
        for w in s.positions.keys { if let ks = firstWords[w] { hit.formUnion(ks) } }
        return hit.sorted().map { observations[$0] }
    }

    /// Every mention in a report with what decided its label (`medglip label --explain`).
    public func explain(_ report: String) -> [Mention] {
        Self.sentences(report).flatMap { text -> [Mention] in
            let sentence = Sentence(text)
            return candidates(sentence).flatMap { o in
                mentions(o, sentence).map { m in
                    Mention(
                        observation: o.name, text: sentence.words[m.span].joined(separator: " "), decision: m.decision,
                        words: sentence.words.map(String.init))
                }
            }
        }
    }

    /// The 14 labels of a report: 1, 0, -1, or nil when not mentioned.
    public func label(_ report: String) -> [String: Int?] {
        var found: [String: [Int]] = [:]
        for text in Self.sentences(report) {
            let sentence = Sentence(text)
            for o in candidates(sentence) { found[o.name, default: []] += mentions(o, sentence).map(\.decision.label) }
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
