/// The report-generation metrics R2Gen publishes, computed together on one set of pairs, with the
/// keys pycocoevalcap's COCOEvalCap uses: BLEU_1...BLEU_4 (`BLEU`), METEOR (`METEOR`, the 1.5 jar's
/// aggregate), ROUGE_L (`ROUGE`), CIDEr (`CIDEr`, CIDEr-D). Strings are scored as given, as R2Gen
/// scores them (no PTB tokenizer); apply `TextPairs.cleaned(_:)` first for R2Gen's report cleaning.
public enum NLGScores {
    public static let keys = ["BLEU_1", "BLEU_2", "BLEU_3", "BLEU_4", "METEOR", "ROUGE_L", "CIDEr"]

    /// What each key reproduces, for help texts and reports.
    public static let references: [String: String] = [
        "BLEU_1": "pycocoevalcap 1.2 bleu_scorer.py, option 'closest'",
        "BLEU_2": "pycocoevalcap 1.2 bleu_scorer.py, option 'closest'",
        "BLEU_3": "pycocoevalcap 1.2 bleu_scorer.py, option 'closest'",
        "BLEU_4": "pycocoevalcap 1.2 bleu_scorer.py, option 'closest'",
        "METEOR": "meteor-1.5.jar -l en -norm via pycocoevalcap 1.2 (aggregate; synonym/paraphrase stages empty)",
        "ROUGE_L": "pycocoevalcap 1.2 rouge.py, beta 1.2",
        "CIDEr": "pycocoevalcap 1.2 cider_scorer.py (CIDEr-D, n 4, sigma 6)"
    ]

    public static func compute(_ pairs: TextPairs, meteor: METEOR = METEOR()) -> [String: Double] {
        var out: [String: Double] = [:]
        for (k, v) in BLEU.score(pairs).enumerated() { out["BLEU_\(k + 1)"] = v }
        out["METEOR"] = meteor.score(pairs).score
        out["ROUGE_L"] = ROUGE.score(pairs)
        out["CIDEr"] = CIDEr.score(pairs)
        return out
    }
}
