/// METEOR 1.5's `-norm` normalisation for English (`edu.cmu.meteor.util.Normalizer.normalizeLine`
/// with punctuation kept, then `toLowerCase`), written as explicit passes over UTF-16 code units
/// instead of regular expressions. Each pass reproduces one `Pattern.replaceAll` of the reference,
/// including its non-overlapping left-to-right matching (so in "a,b,c" only the first comma is split,
/// because the match consumed the "b"). Based on the Moses tokenizer: punctuation other than
/// . ' ` , - is separated, commas are separated except inside numbers, quotes and dashes are
/// unified, word-internal dashes become spaces, English contractions split to the right ("don 't"),
/// and a final dot is split off unless it ends a listed non-breaking prefix (Mr., No. before a number).
enum METEORNormalizer {
    typealias Text = [UInt16]

    static func normalize(_ line: String) -> String {
        var t: Text = [space] + Array(line.utf16) + [space]
        // Separate everything that is not alphanumeric, whitespace or . ' ` , - ‘ ’.
        // (Java's regex sees a surrogate pair as one code point, so pairs stay together.)
        var separated: Text = []
        var k = 0
        while k < t.count {
            let c = t[k]
            if UTF16.isLeadSurrogate(c) && k + 1 < t.count && UTF16.isTrailSurrogate(t[k + 1]) {
                separated += [space, c, t[k + 1], space]; k += 2; continue
            }
            if isAlnum(c) || isJavaSpace(c) || [dot, quote, backtick, comma, dash, 0x2018, 0x2019].contains(c) {
                separated.append(c)
            } else {
                separated += [space, c, space]
            }
            k += 1
        }
        t = separated
        t = escapeMultiDots(t)
        // Commas: not-digit , not-digit | digit , not-digit | not-digit , digit.
        t = replaceTriples(t, middle: { $0 == comma }, left: { !isDigit($0) }, right: { !isDigit($0) }, with: [space, comma, space])
        t = replaceTriples(t, middle: { $0 == comma }, left: isDigit, right: { !isDigit($0) }, with: [space, comma, space])
        t = replaceTriples(t, middle: { $0 == comma }, left: { !isDigit($0) }, right: isDigit, with: [space, comma, space])
        // Quotes: ` ‘ ’ -> ', then “ ” and '' -> " with spaces.
        t = t.map { $0 == backtick || $0 == 0x2018 || $0 == 0x2019 ? quote : $0 }
        var q: Text = []
        var i = 0
        while i < t.count {
            if t[i] == 0x201C || t[i] == 0x201D {
                q += [space, 0x22, space]; i += 1
            } else if t[i] == quote && i + 1 < t.count && t[i + 1] == quote {
                q += [space, 0x22, space]; i += 2
            } else {
                q.append(t[i]); i += 1
            }
        }
        t = q
        // Dashes: en dash -> -, then -- -> - (String.replace, left to right).
        t = t.map { $0 == 0x2013 ? dash : $0 }
        t = replaceLiteral(t, [dash, dash], [dash])
        // Dash between alphanumerics (or after a dot) becomes a space.
        t = replaceTriples(t, middle: { $0 == dash }, left: { isAlnum($0) || $0 == dot }, right: isAlnum, with: [space])
        // English contractions split right.
        t = replaceTriples(t, middle: { $0 == quote }, left: { !isAlpha($0) }, right: { !isAlpha($0) }, with: [space, quote, space])
        t = replaceTriples(t, middle: { $0 == quote }, left: { !isAlpha($0) && !isDigit($0) }, right: isAlpha, with: [space, quote, space])
        t = replaceTriples(t, middle: { $0 == quote }, left: isAlpha, right: { !isAlpha($0) }, with: [space, quote, space])
        t = replaceTriples(t, middle: { $0 == quote }, left: isAlpha, right: isAlpha, with: [space, quote])
        t = replaceTriples(t, middle: { $0 == quote }, left: isDigit, right: { $0 == 0x73 }, with: [space, quote])
        // Split words, then break final dots unless non-breaking.
        let words = tokenize(t)
        var out: Text = []
        for (k, word) in words.enumerated() {
            if word.count > 1 && word.last == dot {
                let pre = Array(word.dropLast())
                let type = nonBreakingPrefixes[String(decoding: pre, as: UTF16.self)]
                let next = k + 1 < words.count ? words[k + 1] : nil
                if pre.contains(dot) && pre.contains(where: isAlpha) {
                    out += word.filter { $0 != dot }  // U.S. -> US
                } else if type == .any || (next.map { (0x61...0x7A).contains($0[0]) } ?? false) {
                    out += word  // listed, or followed by lowercase
                } else if type == .numericOnly, let next, isDigit(next[0]) {
                    out += word
                } else {
                    out += pre + [space, dot]
                }
            } else {
                out += word
            }
            out.append(space)
        }
        t = out
        // Unescape multiple dots.
        while contains(t, u("DOTDOTMULTI")) { t = replaceLiteral(t, u("DOTDOTMULTI"), u("DOTMULTI.")) }
        t = replaceLiteral(t, u("DOTMULTI"), [dot])
        // Collapse runs of the listed spaces, then Java's trim().
        var collapsed: Text = []
        for c in t {
            if isCollapsibleSpace(c) {
                if collapsed.last.map(isCollapsibleSpace) != true { collapsed.append(space) }
            } else {
                collapsed.append(c)
            }
        }
        var lo = 0, hi = collapsed.count
        while lo < hi && collapsed[lo] <= 0x20 { lo += 1 }
        while hi > lo && collapsed[hi - 1] <= 0x20 { hi -= 1 }
        return String(decoding: collapsed[lo..<hi], as: UTF16.self)
    }

    // MARK: character classes (Java regex semantics: \p{Digit} and \s are ASCII-only)

    static let space: UInt16 = 0x20, dot: UInt16 = 0x2E, quote: UInt16 = 0x27, backtick: UInt16 = 0x60
    static let comma: UInt16 = 0x2C, dash: UInt16 = 0x2D

    /// METEOR's `alpha`: A-Za-z, Latin-1/Latin Extended-A letters, Cyrillic, phonetic extensions.
    static func isAlpha(_ c: UInt16) -> Bool {
        switch c {
        case 0x41...0x5A, 0x61...0x7A, 0x160, 0x17D, 0x161, 0x17E, 0x178, 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x17E,
            0x400...0x4FF, 0x500...0x527, 0xA640...0xA66E, 0xA67E...0xA697, 0x1D00...0x1D7F:
            return true
        default: return false
        }
    }
    static func isDigit(_ c: UInt16) -> Bool { (0x30...0x39).contains(c) }
    static func isAlnum(_ c: UInt16) -> Bool { isDigit(c) || isAlpha(c) }
    static func isJavaSpace(_ c: UInt16) -> Bool { c == 0x20 || (0x09...0x0D).contains(c) }
    /// The characters of METEOR's whitespace pattern `r_white`.
    static func isCollapsibleSpace(_ c: UInt16) -> Bool {
        c == 0x20 || c == 0xA0 || (0x2000...0x200A).contains(c) || c == 0x202F || c == 0x205F || c == 0x3000
    }

    // MARK: replaceAll equivalents

    /// `([left])[middle]([right])` -> `$1 <with> $2`, matches consuming all three characters.
    static func replaceTriples(_ t: Text, middle: (UInt16) -> Bool, left: (UInt16) -> Bool, right: (UInt16) -> Bool, with: Text) -> Text {
        var out: Text = []
        out.reserveCapacity(t.count + 8)
        var i = 0
        while i < t.count {
            if i + 2 < t.count && left(t[i]) && middle(t[i + 1]) && right(t[i + 2]) {
                out.append(t[i]); out += with; out.append(t[i + 2]); i += 3
            } else {
                out.append(t[i]); i += 1
            }
        }
        return out
    }

    static func replaceLiteral(_ t: Text, _ from: Text, _ to: Text) -> Text {
        var out: Text = []
        var i = 0
        while i < t.count {
            if i + from.count <= t.count && t[i..<(i + from.count)].elementsEqual(from) {
                out += to; i += from.count
            } else {
                out.append(t[i]); i += 1
            }
        }
        return out
    }

    static func contains(_ t: Text, _ s: Text) -> Bool {
        guard t.count >= s.count else { return false }
        return (0...(t.count - s.count)).contains { t[$0..<($0 + s.count)].elementsEqual(s) }
    }

    static func u(_ s: String) -> Text { Array(s.utf16) }

    /// `\.([\.]+)` -> ` DOTMULTI$1`, then repeatedly `DOTMULTI\.([^\.])` -> `DOTDOTMULTI $1` and
    /// `DOTMULTI.` -> `DOTDOTMULTI`, so runs of dots survive the word splitting as one token.
    static func escapeMultiDots(_ t: Text) -> Text {
        var out: Text = []
        var i = 0
        while i < t.count {
            if t[i] == dot && i + 1 < t.count && t[i + 1] == dot {
                var j = i + 1
                while j < t.count && t[j] == dot { j += 1 }
                out += [space] + u("DOTMULTI") + t[(i + 1)..<j]
                i = j
            } else {
                out.append(t[i]); i += 1
            }
        }
        var s = out
        let multiDot = u("DOTMULTI.")
        while contains(s, multiDot) {
            var r: Text = []
            var k = 0
            let key = u("DOTMULTI.")
            while k < s.count {
                if k + key.count < s.count && s[k..<(k + key.count)].elementsEqual(key) && s[k + key.count] != dot {
                    r += u("DOTDOTMULTI ") + [s[k + key.count]]; k += key.count + 1
                } else {
                    r.append(s[k]); k += 1
                }
            }
            s = replaceLiteral(r, multiDot, u("DOTDOTMULTI"))
        }
        return s
    }

    /// `java.util.StringTokenizer` with its default delimiters " \t\n\r\f".
    static func tokenize(_ t: Text) -> [Text] {
        t.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x0C }).map(Array.init)
    }

    enum PrefixType { case any, numericOnly }

    /// Moses' English non-breaking prefixes as METEOR 1.5 lists them (`nonbreaking/english.prefixes`).
    static let nonBreakingPrefixes: [String: PrefixType] = {
        var d: [String: PrefixType] = [:]
        let any =
            """
            A B C D E F G H I J K L M N O P Q R S T U V W X Y Z Adj Adm Adv Asst Bart Bldg Brig Bros Capt Cmdr Col Comdr Con Corp Cpl DR Dr Drs \
            Ens Gen Gov Hon Hr Hosp Insp Lt MM MR MRS MS Maj Messrs Mlle Mme Mr Mrs Ms Msgr Op Ord Pfc Ph Prof Pvt Rep Reps Res Rev Rt Sen Sens \
            Sfc Sgt Sr St Supt Surg v vs i.e rev e.g Nos Nr
            """
        for p in any.split(separator: " ") { d[String(p)] = .any }
        for p in ["No", "Art", "pp"] { d[p] = .numericOnly }
        return d
    }()
}
