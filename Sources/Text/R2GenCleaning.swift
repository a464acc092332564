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
        var t = report
        if dataset == .mimicCXR {
            t = t.replacingOccurrences(of: "\n", with: " ")
            for _ in 0..<7 { t = t.replacingOccurrences(of: "__", with: "_") }
            for _ in 0..<6 { t = t.replacingOccurrences(of: "  ", with: " ") }
            for _ in 0..<5 { t = t.replacingOccurrences(of: "..", with: ".") }
        }
        for _ in 0..<3 { t = t.replacingOccurrences(of: "..", with: ".") }
        for (from, to) in [
            ("1. ", ""), (". 2. ", ". "), (". 3. ", ". "), (". 4. ", ". "), (". 5. ", ". "),
            (" 2. ", ". "), (" 3. ", ". "), (" 4. ", ". "), (" 5. ", ". ")
        ] {
            t = t.replacingOccurrences(of: from, with: to)
        }
        let sentences = pythonStrip(t).lowercased().components(separatedBy: ". ")
        return sentences.map(cleanSentence).joined(separator: " . ") + " ."
    }

    static func cleanSentence(_ s: String) -> String {
        var t = s
        for ch in ["\"", "/", "\\", "'"] { t = t.replacingOccurrences(of: ch, with: "") }
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
