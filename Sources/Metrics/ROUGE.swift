/// ROUGE-L exactly as pycocoevalcap 1.2 computes it (`pycocoevalcap/rouge/rouge.py`, Ramakrishna
/// Vedantam), as R2Gen calls `Rouge().compute_score(gts, res)`:
/// - tokens are `str.split(" ")` (single spaces; empty tokens kept and matched like any other);
/// - per sample: LCS length against each reference, precision lcs/|hyp| and recall lcs/|ref|; the
///   maximum precision and the maximum recall are taken independently over the references (not the
///   best F of one reference), then F = (1 + b^2) P R / (R + b^2 P) with b = 1.2, or 0 when P or R is 0;
/// - the corpus score is the mean over samples.
public enum ROUGE {
    public static let beta = 1.2

    public static func score(_ pairs: TextPairs) -> Double {
        let ids = pairs.ids
        guard !ids.isEmpty else { return .nan }  // numpy's mean of an empty array
        var vocab = Vocabulary()
        var total = 0.0
        for id in ids { total += sampleScore(hypothesis: pairs.hypotheses[id]!, references: pairs.references[id]!, vocab: &vocab) }
        return total / Double(ids.count)
    }

    static func sampleScore(hypothesis: String, references: [String], vocab: inout Vocabulary) -> Double {
        let hyp = vocab.ids(PythonSplit.singleSpace(hypothesis))
        var precMax = -Double.infinity, recMax = -Double.infinity
        for ref in references {
            let r = vocab.ids(PythonSplit.singleSpace(ref))
            let l = Double(lcs(r, hyp))
            precMax = max(precMax, l / Double(hyp.count))
            recMax = max(recMax, l / Double(r.count))
        }
        guard precMax != 0 && recMax != 0 else { return 0 }
        return ((1 + beta * beta) * precMax * recMax) / (recMax + beta * beta * precMax)
    }

    /// Length of the longest common subsequence, one rolling row (O(min) memory).
    static func lcs(_ x: [Int32], _ y: [Int32]) -> Int {
        let (long, short) = x.count >= y.count ? (x, y) : (y, x)
        guard !short.isEmpty else { return 0 }
        var row = [Int](repeating: 0, count: short.count + 1)
        for a in long {
            var diagonal = 0
            for j in 1...short.count {
                let above = row[j]
                row[j] = a == short[j - 1] ? diagonal + 1 : max(above, row[j - 1])
                diagonal = above
            }
        }
        return row[short.count]
    }
}
