import Foundation

/// Report cleaning exactly as R2Gen's tokenizer does it (cuhksz-nlp/R2Gen, modules/tokenizers.py),
/// quirks included, because published BLEU/METEOR/ROUGE-L numbers are computed on its output:
/// - literal replacements are applied in order, once each (so "...." may survive as "..");
/// - a sentence that cleans to "" is still kept (R2Gen compares a string to `[]`), giving " .  ." runs;
/// - the character class `[.,?;*!%^&_+():-\[\]{}]` contains the range `:-\[`, which also removes
///   `; < = > ? @`, capital letters (already lowered) and `[`.
public enum R2GenCleaning {
    public enum Dataset: String, Sendable { case iuXray = "iu_xray", mimicCXR = "mimic_cxr" }

    public static func clean(_ report: String, dataset: Dataset) -> String {
        // Every pattern is ASCII, so replacing in UTF-8 bytes is replacing characters (and far faster
        // than Foundation's string replacement over MIMIC-CXR's 270,790 reports).
        var t = Array(report.utf8)
        if dataset == .mimicCXR {
            replace(&t, "\n", " ")
            for _ in 0..<7 { replace(&t, "__", "_") }
            for _ in 0..<6 { replace(&t, "  ", " ") }
            for _ in 0..<5 { replace(&t, "..", ".") }
        }
        for _ in 0..<3 { replace(&t, "..", ".") }
        for (from, to): (StaticString, StaticString) in [
            ("1. ", ""), (". 2. ", ". "), (". 3. ", ". "), (". 4. ", ". "), (". 5. ", ". "),
            (" 2. ", ". "), (" 3. ", ". "), (" 4. ", ". "), (" 5. ", ". ")
        ] {
            replace(&t, from, to)
        }
        let sentences = pythonStrip(String(decoding: t, as: UTF8.self)).lowercased().components(separatedBy: ". ")
        return sentences.map(cleanSentence).joined(separator: " . ") + " ."
    }

    /// Python's `str.replace(from, to)`: every non-overlapping occurrence, left to right, once.
    static func replace(_ text: inout [UInt8], _ from: StaticString, _ to: StaticString) {
        let n = from.utf8CodeUnitCount, first = from.utf8Start[0]
        let found = text.withUnsafeBufferPointer { t -> Int? in
            guard t.count >= n else { return nil }
            for i in 0...(t.count - n) where t[i] == first && memcmp(t.baseAddress! + i, from.utf8Start, n) == 0 { return i }
            return nil
        }
        guard let start = found else { return }
        var out = [UInt8](text[..<start])
        out.reserveCapacity(text.count)
        text.withUnsafeBufferPointer { t in
            var i = start
            while i < t.count {
                if i + n <= t.count && t[i] == first && memcmp(t.baseAddress! + i, from.utf8Start, n) == 0 {
                    out.append(contentsOf: UnsafeBufferPointer(start: to.utf8Start, count: to.utf8CodeUnitCount))
                    i += n
                } else {
                    out.append(t[i])
                    i += 1
                }
            }
        }
        text = out
    }

    static func cleanSentence(_ s: String) -> String {
        let dropped: Set<UInt8> = [UInt8(ascii: "\""), UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "'")]
        var t = String(decoding: s.utf8.filter { !dropped.contains($0) }, as: UTF8.self)
        t = pythonStrip(t).lowercased()
        return String(t.unicodeScalars.filter { !removed($0) }.map(Character.init))
    }

    /// Membership in R2Gen's character class `[.,?;*!%^&_+():-\[\]{}]`.
    static func removed(_ c: Unicode.Scalar) -> Bool {
        if (0x3A...0x5B).contains(c.value) { return true }  // the range ':' ... '['
        return ".,?;*!%^&_+()]{}".unicodeScalars.contains(c)
    }

    /// Python's `str.strip()` without arguments: strips Unicode whitespace at both ends.
    static func pythonStrip(_ s: String) -> String {
        let scalars = Array(s.unicodeScalars)
        var lo = 0, hi = scalars.count
        while lo < hi && scalars[lo].properties.isWhitespace { lo += 1 }
        while hi > lo && scalars[hi - 1].properties.isWhitespace { hi -= 1 }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[lo..<hi])
        return String(out)
    }
}
