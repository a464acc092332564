/// The Snowball English ("Porter2") stemmer, written from the published algorithm
/// (snowballstem.org/algorithms/english/stemmer.html), in the version METEOR 1.5 ships
/// (`org.tartarus.snowball.ext.englishStemmer`: the exceptional forms, R1 adjusted for
/// gener-/commun-/arsen-). METEOR's stem stage matches two words when their stems are equal.
/// Works on UTF-16 code units, as the Java stemmer does; checked against the jar's stemmer on the
/// word list in Tests/MetricsTests/Fixtures/snowball_english_stems.json.
public enum SnowballEnglishStemmer {
    public static func stem(_ word: String) -> String {
        var w = Array(word.utf16)
        if let e = exception1(w) { return e }
        if w.count < 3 { return word }
        var yFound = false
        // Prelude: drop a leading apostrophe; y at the start or after a vowel becomes consonant Y.
        if w.first == apostrophe { w.removeFirst() }
        if w.first == y { w[0] = Y; yFound = true }
        if w.count > 1 {
            for i in 0..<(w.count - 1) where isVowel(w[i]) && w[i + 1] == y { w[i + 1] = Y; yFound = true }
        }
        let (p1, p2) = regions(w)
        var s = Stemming(w: w, p1: p1, p2: p2)
        s.step1a()
        if !s.isException2() {
            s.step1b(); s.step1c(); s.step2(); s.step3(); s.step4(); s.step5()
        }
        if yFound { s.w = s.w.map { $0 == Y ? y : $0 } }
        return String(decoding: s.w, as: UTF16.self)
    }

    static let apostrophe: UInt16 = 0x27, y: UInt16 = 0x79, Y: UInt16 = 0x59

    static func isVowel(_ c: UInt16) -> Bool {
        switch c {
        case 0x61, 0x65, 0x69, 0x6F, 0x75, 0x79: return true;
        default: return false
        }  // a e i o u y
    }

    static func u(_ s: String) -> [UInt16] { Array(s.utf16) }

    /// Whole words with fixed stems (and invariants), checked before anything else.
    static func exception1(_ w: [UInt16]) -> String? {
        let word = String(decoding: w, as: UTF16.self)
        switch word {
        case "skis": return "ski"
        case "skies": return "sky"
        case "dying": return "die"
        case "lying": return "lie"
        case "tying": return "tie"
        case "idly": return "idl"
        case "gently": return "gentl"
        case "ugly": return "ugli"
        case "early": return "earli"
        case "only": return "onli"
        case "singly": return "singl"
        case "sky", "news", "howe", "atlas", "cosmos", "bias", "andes": return word
        default: return nil
        }
    }

    /// R1: after the first non-vowel following a vowel (or after gener/commun/arsen); R2: the same
    /// rule applied again inside R1.
    static func regions(_ w: [UInt16]) -> (Int, Int) {
        func after(_ start: Int) -> Int {
            var i = start
            while i < w.count && !isVowel(w[i]) { i += 1 }
            while i < w.count && isVowel(w[i]) { i += 1 }
            return i < w.count ? i + 1 : w.count
        }
        var p1 = w.count
        var matched = false
        for prefix in ["gener", "commun", "arsen"] where w.starts(with: u(prefix)) { p1 = prefix.utf16.count; matched = true; break }
        if !matched { p1 = after(0) }
        // `gopast v gopast non-v` fails (leaving p1 at the limit) when the word has no such pattern.
        let p2 = p1 < w.count ? after(p1) : w.count
        return (p1, p2)
    }

    struct Stemming {
        var w: [UInt16]
        let p1: Int, p2: Int

        func ends(_ s: String) -> Bool { w.count >= s.utf16.count && w.suffix(s.utf16.count).elementsEqual(s.utf16) }
        /// The longest of `suffixes` the word ends with (Snowball's `among`).
        func longest(_ suffixes: [String]) -> String? { suffixes.filter(ends).max { $0.utf16.count < $1.utf16.count } }
        mutating func replace(_ suffix: String, _ with: String) { w.removeLast(suffix.utf16.count); w.append(contentsOf: with.utf16) }
        func vowel(_ i: Int) -> Bool { i >= 0 && i < w.count && isVowel(w[i]) }

        /// A short syllable ending at position `end` (exclusive): non-vowel, vowel, non-vowel other
        /// than w, x, Y; or vowel, non-vowel at the very start of the word.
        func shortSyllable(endingAt end: Int) -> Bool {
            if end >= 3 {
                let c = w[end - 1]
                if !isVowel(c) && c != 0x77 && c != 0x78 && c != Y && isVowel(w[end - 2]) && !isVowel(w[end - 3]) { return true }
            }
            return end == 2 && isVowel(w[0]) && !isVowel(w[1])
        }

        mutating func step1a() {
            if let s = longest(["'", "'s", "'s'"]) { w.removeLast(s.utf16.count) }
            guard let s = longest(["sses", "ied", "ies", "s", "us", "ss"]) else { return }
            let stemEnd = w.count - s.utf16.count
            switch s {
            case "sses": replace(s, "ss")
            case "ied", "ies": replace(s, stemEnd > 1 ? "i" : "ie")
            case "s":
                // Delete if a vowel occurs before the letter just before the s.
                if stemEnd >= 1 && (0..<(stemEnd - 1)).contains(where: vowel) { w.removeLast() }
            default: break
            }
        }

        func isException2() -> Bool {
            let word = String(decoding: w, as: UTF16.self)
            return ["inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed"].contains(word)
        }

        mutating func step1b() {
            guard let s = longest(["eed", "eedly", "ed", "edly", "ing", "ingly"]) else { return }
            let stemEnd = w.count - s.utf16.count
            if s == "eed" || s == "eedly" {
                if stemEnd >= p1 { replace(s, "ee") }
                return
            }
            guard (0..<stemEnd).contains(where: vowel) else { return }
            w.removeLast(s.utf16.count)
            if ends("at") || ends("bl") || ends("iz") { w.append(0x65); return }
            if let last = w.last, w.count >= 2, w[w.count - 2] == last,
                [0x62, 0x64, 0x66, 0x67, 0x6D, 0x6E, 0x70, 0x72, 0x74].contains(last)
            {  // bb dd ff gg mm nn pp rr tt
                w.removeLast(); return
            }
            if w.count == p1 && shortSyllable(endingAt: w.count) { w.append(0x65) }
        }

        mutating func step1c() {
            guard let last = w.last, last == y || last == Y, w.count >= 3, !isVowel(w[w.count - 2]) else { return }
            w[w.count - 1] = 0x69
        }

        mutating func step2() {
            let rules: [(String, String)] = [
                ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("abli", "able"), ("entli", "ent"),
                ("izer", "ize"), ("ization", "ize"), ("ational", "ate"), ("ation", "ate"), ("ator", "ate"),
                ("alism", "al"), ("aliti", "al"), ("alli", "al"), ("fulness", "ful"), ("ousli", "ous"),
                ("ousness", "ous"), ("iveness", "ive"), ("iviti", "ive"), ("biliti", "ble"), ("bli", "ble"),
                ("ogi", "og"), ("fulli", "ful"), ("lessli", "less"), ("li", "")
            ]
            guard let s = longest(rules.map(\.0)) else { return }
            let stemEnd = w.count - s.utf16.count
            guard stemEnd >= p1 else { return }
            switch s {
            case "ogi": if stemEnd >= 1 && w[stemEnd - 1] == 0x6C { replace(s, "og") }
            case "li": if stemEnd >= 1 && "cdeghkmnrt".utf16.contains(w[stemEnd - 1]) { w.removeLast(2) }
            default: replace(s, rules.first { $0.0 == s }!.1)
            }
        }

        mutating func step3() {
            let rules: [(String, String)] = [
                ("tional", "tion"), ("ational", "ate"), ("alize", "al"), ("icate", "ic"), ("iciti", "ic"),
                ("ical", "ic"), ("ful", ""), ("ness", ""), ("ative", "")
            ]
            guard let s = longest(rules.map(\.0)) else { return }
            let stemEnd = w.count - s.utf16.count
            guard stemEnd >= p1 else { return }
            if s == "ative" { if stemEnd >= p2 { w.removeLast(5) }; return }
            replace(s, rules.first { $0.0 == s }!.1)
        }

        mutating func step4() {
            let suffixes = [
                "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent",
                "ism", "ate", "iti", "ous", "ive", "ize", "ion"
            ]
            guard let s = longest(suffixes) else { return }
            let stemEnd = w.count - s.utf16.count
            guard stemEnd >= p2 else { return }
            if s == "ion" {
                if stemEnd >= 1 && (w[stemEnd - 1] == 0x73 || w[stemEnd - 1] == 0x74) { w.removeLast(3) }
                return
            }
            w.removeLast(s.utf16.count)
        }

        mutating func step5() {
            guard let last = w.last else { return }
            let stemEnd = w.count - 1
            if last == 0x65 {
                if stemEnd >= p2 || (stemEnd >= p1 && !shortSyllable(endingAt: stemEnd)) { w.removeLast() }
            } else if last == 0x6C {
                if stemEnd >= p2 && stemEnd >= 1 && w[stemEnd - 1] == 0x6C { w.removeLast() }
            }
        }
    }
}
