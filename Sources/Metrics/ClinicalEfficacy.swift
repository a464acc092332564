/// Clinical efficacy (CE): precision, recall and F1 of the CheXpert labels of generated reports
/// against those of the reference reports, as R2Gen's and MLRG's `compute_ce` do it with
/// scikit-learn (`precision_recall_fscore_support`, zero_division -> 0): micro (pooled counts) and
/// macro (mean of per-label scores) over the 14 observations and over the 5 common ones.
public enum ClinicalEfficacy {
    /// What an uncertain (-1) label counts as; blank always counts as negative.
    public enum UncertainPolicy: String, Sendable, CaseIterable {
        /// R2Gen: uncertain and blank -> 0.
        case negative
        /// MLRG: uncertain -> 1.
        case positive
    }

    /// The five observations most papers also report separately.
    public static let commonFive = ["Cardiomegaly", "Edema", "Consolidation", "Atelectasis", "Pleural Effusion"]

    public struct PRF: Equatable, Sendable { public var precision, recall, f1: Double }

    public struct Result: Sendable {
        public var micro, macro, micro5, macro5: PRF
        public var perLabel: [String: PRF]
    }

    static func binary(_ label: Int?, _ policy: UncertainPolicy) -> Bool {
        label == 1 || (label == -1 && policy == .positive)
    }

    /// Scores hypotheses against references, both id -> 14 labels, over the ids of `references`.
    public static func score(
        references: [String: [String: Int?]], hypotheses: [String: [String: Int?]],
        policy: UncertainPolicy = .negative
    ) -> Result {
        var counts: [String: (tp: Int, fp: Int, fn: Int)] = [:]
        for o in chexpertObservations { counts[o] = (0, 0, 0) }
        for (id, ref) in references {
            let hyp = hypotheses[id] ?? [:]
            for o in chexpertObservations {
                let (r, h) = (binary(ref[o] ?? nil, policy), binary(hyp[o] ?? nil, policy))
                if r && h { counts[o]!.tp += 1 } else if h { counts[o]!.fp += 1 } else if r { counts[o]!.fn += 1 }
            }
        }
        func prf(_ tp: Int, _ fp: Int, _ fn: Int) -> PRF {
            let p = tp + fp > 0 ? Double(tp) / Double(tp + fp) : 0
            let r = tp + fn > 0 ? Double(tp) / Double(tp + fn) : 0
            let f = tp > 0 ? Double(2 * tp) / Double(2 * tp + fp + fn) : 0
            return PRF(precision: p, recall: r, f1: f)
        }
        let perLabel = counts.mapValues { prf($0.tp, $0.fp, $0.fn) }
        func micro(_ labels: [String]) -> PRF {
            let c = labels.map { counts[$0]! }
            return prf(c.reduce(0) { $0 + $1.tp }, c.reduce(0) { $0 + $1.fp }, c.reduce(0) { $0 + $1.fn })
        }
        func macro(_ labels: [String]) -> PRF {
            let n = Double(labels.count)
            return PRF(
                precision: labels.reduce(0) { $0 + perLabel[$1]!.precision } / n,
                recall: labels.reduce(0) { $0 + perLabel[$1]!.recall } / n,
                f1: labels.reduce(0) { $0 + perLabel[$1]!.f1 } / n)
        }
        return Result(
            micro: micro(chexpertObservations), macro: macro(chexpertObservations),
            micro5: micro(commonFive), macro5: macro(commonFive), perLabel: perLabel)
    }
}
