import Foundation

/// `nltk.translate.bleu_score.sentence_bleu` with its default smoothing (method0), as LLaVA-Med's
/// run_eval.py calls it: one reference, one precision per weight (4: zero weights count too), clipped counts over
/// max(1, hypothesis n-grams); no unigram match gives 0; another precision with no match becomes
/// the smallest normal double (2.2250738585072014e-308), as nltk 3.x does, before the weighted log sum.
public enum NLTKSentenceBLEU {
    public static func score(reference: [String], hypothesis: [String], weights: [Double] = [0.25, 0.25, 0.25, 0.25]) -> Double {
        var precisions: [(matches: Int, total: Int)] = []
        for n in 1...weights.count {
            let hyp = ngramCounts(hypothesis, n), ref = ngramCounts(reference, n)
            let matches = hyp.reduce(0) { $0 + min($1.value, ref[$1.key] ?? 0) }
            precisions.append((matches, max(1, hyp.values.reduce(0, +))))
        }
        guard precisions[0].matches > 0 else { return 0 }
        let (c, r) = (hypothesis.count, reference.count)
        let brevity = c > r ? 1 : (c == 0 ? 0 : exp(1 - Double(r) / Double(c)))
        var logSum = 0.0
        for (w, p) in zip(weights, precisions) {
            let value = p.matches == 0 ? Double.leastNormalMagnitude : Double(p.matches) / Double(p.total)
            logSum += w * log(value)
        }
        return brevity * exp(logSum)
    }

    static func ngramCounts(_ words: [String], _ n: Int) -> [ArraySlice<String>: Int] {
        guard words.count >= n else { return [:] }
        var counts: [ArraySlice<String>: Int] = [:]
        for i in 0...(words.count - n) { counts[words[i..<(i + n)], default: 0] += 1 }
        return counts
    }
}
