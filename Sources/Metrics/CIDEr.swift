import Foundation

/// CIDEr-D as pycocoevalcap 1.2 computes it (`pycocoevalcap/cider/cider_scorer.py`, Ramakrishna
/// Vedantam and Tsung-Yi Lin), called as `Cider().compute_score(gts, res)` with n = 4, sigma = 6:
/// - tokens are `str.split()`; document frequency of each n-gram = number of samples whose reference
///   set contains it; idf = log(#samples) - log(max(1, df));
/// - per n-gram order, tf-idf vectors; the similarity to each reference sums min(hyp, ref) * ref
///   (the "clipping" of hypothesis weights by reference weights), divided by both norms when neither is 0;
/// - a Gaussian length penalty exp(-(dl^2) / (2 sigma^2)) where, as in the reference, the "length" of a
///   sentence is its number of bigrams (the reference counts `term_freq` when `n == 1`, a 0-based order);
/// - mean over the 4 orders, divided by the number of references, times 10; mean over samples.
public enum CIDEr {
    public static let sigma = 6.0

    /// One sentence's tf-idf vectors per order (in first-occurrence order), norms and "length".
    struct Vector {
        var weights: [[NGram: Double]]
        var ordered: [[(NGram, Double)]]
        var norms: [Double]
        var length: Int
    }

    public static func score(_ pairs: TextPairs, n: Int = 4) -> Double {
        let ids = pairs.ids
        guard !ids.isEmpty else { return .nan }
        var vocab = Vocabulary()
        let hyps = ids.map { NGramCounts(vocab.ids(PythonSplit.whitespace(pairs.hypotheses[$0]!)), maxOrder: n) }
        let refs = ids.map { id in pairs.references[id]!.map { NGramCounts(vocab.ids(PythonSplit.whitespace($0)), maxOrder: n) } }

        var documentFrequency: [NGram: Double] = [:]
        for sampleRefs in refs {
            var seen = Set<NGram>()
            for r in sampleRefs { for g in r.keys where seen.insert(g).inserted { documentFrequency[g, default: 0] += 1 } }
        }
        let refLength = log(Double(refs.count))

        func vector(_ counts: NGramCounts) -> Vector {
            var v = Vector(
                weights: Array(repeating: [:], count: n), ordered: Array(repeating: [], count: n),
                norms: Array(repeating: 0, count: n), length: 0)
            for (g, tf) in zip(counts.keys, counts.counts) {
                let df = log(max(1.0, documentFrequency[g] ?? 0))
                let k = g.order - 1
                let w = Double(tf) * (refLength - df)
                v.weights[k][g] = w
                v.ordered[k].append((g, w))
                v.norms[k] += pow(w, 2)
                if k == 1 { v.length += tf }
            }
            v.norms = v.norms.map { $0.squareRoot() }
            return v
        }

        var total = 0.0
        for (hyp, sampleRefs) in zip(hyps, refs) {
            let vh = vector(hyp)
            var score = [Double](repeating: 0, count: n)
            for r in sampleRefs {
                let vr = vector(r)
                let delta = Double(vh.length - vr.length)
                for k in 0..<n {
                    var val = 0.0
                    for (g, w) in vh.ordered[k] {
                        let wr = vr.weights[k][g] ?? 0
                        val += min(w, wr) * wr
                    }
                    if vh.norms[k] != 0 && vr.norms[k] != 0 { val /= vh.norms[k] * vr.norms[k] }
                    // Python's `np.e ** x` is C pow(e, x), which can differ from exp(x) in the last bit.
                    val *= pow(M_E, -(delta * delta) / (2 * sigma * sigma))
                    score[k] += val
                }
            }
            var mean = score.reduce(0, +) / Double(n)
            mean /= Double(sampleRefs.count)
            mean *= 10
            total += mean
        }
        return total / Double(ids.count)
    }
}
