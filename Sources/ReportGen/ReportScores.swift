import Metrics

/// R2Gen's evaluation: BLEU-1..4, METEOR, ROUGE-L and CIDEr (pycocoevalcap) on the decoded texts,
/// and clinical efficacy from CheXpert labels under both uncertain-label policies.
public struct ReportScores: Codable, Sendable {
    public var nlg: [String: Double]
    /// Policy ("negative": R2Gen, "positive": MLRG) -> "micro"/"macro" -> P, R, F1.
    public var ce: [String: [String: [String: Double]]]

    public static func compute(references: [String: String], hypotheses: [String: String], labeler: CheXpertLabeler) -> ReportScores {
        let nlg = NLGScores.compute(TextPairs(references: references.mapValues { [$0] }, hypotheses: hypotheses))
        let refLabels = references.mapValues(labeler.label), hypLabels = hypotheses.mapValues(labeler.label)
        var ce: [String: [String: [String: Double]]] = [:]
        for policy in ClinicalEfficacy.UncertainPolicy.allCases {
            let r = ClinicalEfficacy.score(references: refLabels, hypotheses: hypLabels, policy: policy)
            func row(_ p: ClinicalEfficacy.PRF) -> [String: Double] { ["P": p.precision, "R": p.recall, "F1": p.f1] }
            ce[policy.rawValue] = ["micro": row(r.micro), "macro": row(r.macro)]
        }
        return ReportScores(nlg: nlg, ce: ce)
    }

    public var bleu4: Double { nlg["BLEU_4"] ?? 0 }

    public static let columns = ["BLEU_1", "BLEU_2", "BLEU_3", "BLEU_4", "METEOR", "ROUGE_L", "CIDEr"]

    /// Every name `flat` holds, e.g. `CE_micro_F1_negative`: what a run can be selected on.
    public static let names: [String] =
        columns
        + ["negative", "positive"].flatMap { policy in
            ["micro", "macro"].flatMap { average in ["P", "R", "F1"].map { "CE_\(average)_\($0)_\(policy)" } }
        }

    /// The validation score a selection rule gives: one name of `names`, or several joined by "+" and summed.
    public static func selectionScore(_ rule: String, _ validation: [String: Double]) -> Double {
        rule.split(separator: "+").map { validation[String($0)] ?? 0 }.reduce(0, +)
    }

    /// The names of `rule` that are not in `names` (empty when the rule is usable).
    public static func unknownNames(inSelection rule: String) -> [String] {
        rule.split(separator: "+", omittingEmptySubsequences: false).map(String.init).filter { !names.contains($0) }
    }

    /// A flat name -> value view for tables and the run registry.
    public var flat: [String: Double] {
        var out = nlg
        for (policy, byAverage) in ce {
            for (average, prf) in byAverage { for (k, v) in prf { out["CE_\(average)_\(k)_\(policy)"] = v } }
        }
        return out
    }
}
