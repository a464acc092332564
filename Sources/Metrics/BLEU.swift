import Foundation

/// Corpus BLEU-1...4 exactly as pycocoevalcap 1.2 computes it (`pycocoevalcap/bleu/bleu_scorer.py`,
/// David Chiang's scorer as modified by Hao Fang and Tsung-Yi Lin), called the way R2Gen calls
/// `Bleu(4).compute_score(gts, res)`:
/// - tokens are `str.split()` of the strings as given (no PTB tokenizer);
/// - per sample, hypothesis n-gram counts are clipped by the maximum count over the references, and
///   the clipped counts (`correct`) and hypothesis n-gram totals (`guess`) are summed over the corpus;
/// - the effective reference length per sample is the 'closest' one (ties go to the shorter reference,
///   as Python's `min((abs(l - testlen), l))` does), summed over the corpus;
/// - BLEU-k = (prod_{i<=k} (correct_i + 1e-15) / (guess_i + 1e-9))^(1/k), times the brevity penalty
///   exp(1 - 1/ratio) when ratio = (testlen + 1e-15) / (reflen + 1e-9) < 1. The tiny/small constants
///   are the reference's and change the result in the 10th digit, so they are kept.
public enum BLEU {
    public static let tiny = 1e-15
    public static let small = 1e-9

    /// Sufficient statistics of one sample (the reference's `cook_test` result).
    struct Sample {
        var testLength: Int
        var referenceLength: Int  // 'closest'
        var guess: [Int]
        var correct: [Int]
    }

    /// BLEU-1...BLEU-n over the corpus.
    public static func score(_ pairs: TextPairs, n: Int = 4) -> [Double] {
        var vocab = Vocabulary()
        var totalTest = 0, totalRef = 0
        var guess = [Int](repeating: 0, count: n), correct = [Int](repeating: 0, count: n)
        for id in pairs.ids {
            let s = sample(hypothesis: pairs.hypotheses[id]!, references: pairs.references[id]!, n: n, vocab: &vocab)
            totalTest += s.testLength; totalRef += s.referenceLength
            for k in 0..<n { guess[k] += s.guess[k]; correct[k] += s.correct[k] }
        }
        return combine(testLength: totalTest, referenceLength: totalRef, guess: guess, correct: correct)
    }

    static func sample(hypothesis: String, references: [String], n: Int, vocab: inout Vocabulary) -> Sample {
        var maxCounts: [NGram: Int] = [:]
        var refLengths: [Int] = []
        for ref in references {
            let ids = vocab.ids(PythonSplit.whitespace(ref))
            refLengths.append(ids.count)
            let counts = NGramCounts(ids, maxOrder: n)
            for (g, c) in zip(counts.keys, counts.counts) where c > (maxCounts[g] ?? 0) { maxCounts[g] = c }
        }
        let ids = vocab.ids(PythonSplit.whitespace(hypothesis))
        let testLength = ids.count
        let closest = refLengths.min { (abs($0 - testLength), $0) < (abs($1 - testLength), $1) }!
        var correct = [Int](repeating: 0, count: n)
        let counts = NGramCounts(ids, maxOrder: n)
        for (g, c) in zip(counts.keys, counts.counts) { correct[g.order - 1] += min(maxCounts[g] ?? 0, c) }
        return Sample(
            testLength: testLength, referenceLength: closest,
            guess: (1...n).map { max(0, testLength - $0 + 1) }, correct: correct)
    }

    static func combine(testLength: Int, referenceLength: Int, guess: [Int], correct: [Int]) -> [Double] {
        var bleus: [Double] = []
        var bleu = 1.0
        for k in 0..<guess.count {
            bleu *= (Double(correct[k]) + tiny) / (Double(guess[k]) + small)
            bleus.append(pow(bleu, 1.0 / Double(k + 1)))
        }
        let ratio = (Double(testLength) + tiny) / (Double(referenceLength) + small)
        if ratio < 1 {
            let penalty = exp(1 - 1 / ratio)
            bleus = bleus.map { $0 * penalty }
        }
        return bleus
    }
}
