import Foundation

/// METEOR as pycocoevalcap 1.2 reports it: `Meteor().compute_score(gts, res)` drives
/// `java -jar -Xmx2G meteor-1.5.jar - - -stdio -l en -norm` (METEOR 1.5, Denkowski and Lavie,
/// "Meteor Universal", WMT 2014) and returns the jar's aggregate score: sufficient statistics are
/// summed over all segments and scored once (not a mean of segment scores).
///
/// Per segment, as the wrapper and the jar do it: the hypothesis loses "|||" and each double space
/// once; the "SCORE ||| refs ||| hyp" line is split on "|||" and trimmed; every string is normalised
/// (`-norm`, see `METEORNormalizer`) and lower-cased, then aligned to each reference
/// (`METEORAligner`), and the reference with the highest segment score (the first on ties) gives
/// the segment's statistics. Scoring uses the English ranking-task parameters of 1.5:
/// alpha 0.85, beta 0.2, gamma 0.6, delta 0.75, module weights exact 1.0, stem 0.6, synonym 0.8,
/// paraphrase 0.6:
///   P = weighted test matches / weighted test length, R = likewise for the reference, where content
///   words weigh delta and function words 1 - delta, and each stage's matches its module weight;
///   Fmean = 1 / ((1 - alpha) / P + alpha / R); frag = chunks / mean(matched words) (0 for a perfect
///   match in one chunk); penalty = gamma * frag^beta; score = max(0, Fmean (1 - penalty)), 0 if NaN.
/// When summing, a perfect segment (all words matched, one chunk) adds no chunks, as `addStats` does.
public struct METEOR: Sendable {
    public struct Parameters: Sendable {
        public var alpha = 0.85, beta = 0.2, gamma = 0.6, delta = 0.75
        public var moduleWeights: [Double] = [1.0, 0.6, 0.8, 0.6]
        public init() {}
    }

    /// The jar's sufficient statistics (`MeteorStats`), word-based.
    public struct Stats: Sendable, Equatable {
        public var testLength = 0, referenceLength = 0
        public var testFunctionWords = 0, referenceFunctionWords = 0
        public var testStageContent = [0, 0, 0, 0], referenceStageContent = [0, 0, 0, 0]
        public var testStageFunction = [0, 0, 0, 0], referenceStageFunction = [0, 0, 0, 0]
        public var chunks = 0, testWordMatches = 0, referenceWordMatches = 0

        public var testTotalMatches: Int { testStageContent.reduce(0, +) + testStageFunction.reduce(0, +) }
        public var referenceTotalMatches: Int { referenceStageContent.reduce(0, +) + referenceStageFunction.reduce(0, +) }
        var isPerfect: Bool { testTotalMatches == testLength && referenceTotalMatches == referenceLength && chunks == 1 }

        /// The 23 numbers the jar prints for a SCORE line, in its order.
        public var line: [Int] {
            var v = [testLength, referenceLength, testFunctionWords, referenceFunctionWords]
            for i in 0..<4 { v += [testStageContent[i], referenceStageContent[i], testStageFunction[i], referenceStageFunction[i]] }
            return v + [chunks, testWordMatches, referenceWordMatches]
        }

        /// `MeteorStats.addStats`.
        mutating func add(_ s: Stats) {
            testLength += s.testLength; referenceLength += s.referenceLength
            testFunctionWords += s.testFunctionWords; referenceFunctionWords += s.referenceFunctionWords
            for i in 0..<4 {
                testStageContent[i] += s.testStageContent[i]; referenceStageContent[i] += s.referenceStageContent[i]
                testStageFunction[i] += s.testStageFunction[i]; referenceStageFunction[i] += s.referenceStageFunction[i]
            }
            if !s.isPerfect { chunks += s.chunks }
            testWordMatches += s.testWordMatches; referenceWordMatches += s.referenceWordMatches
        }
    }

    public var parameters = Parameters()
    public var resources = METEORResources.english

    public init(parameters: Parameters = Parameters(), resources: METEORResources = .english) {
        self.parameters = parameters; self.resources = resources
    }

    /// Corpus METEOR (the jar's aggregate) and the per-segment scores in `pairs.ids` order.
    public func score(_ pairs: TextPairs) -> (score: Double, segments: [Double]) {
        var cache = Cache()
        var total = Stats()
        var segments: [Double] = []
        for id in pairs.ids {
            let s = segmentStats(hypothesis: pairs.hypotheses[id]!, references: pairs.references[id]!, cache: &cache)
            segments.append(score(s))
            total.add(s)
        }
        return (score(total), segments)
    }

    /// Per-sentence work shared across segments: normalisation, tokens, keys, stems.
    struct Cache {
        var sentences: [String: METEORAligner.Sentence] = [:]
        var stemKeys: [String: Int32] = [:]
    }

    func segmentStats(hypothesis: String, references: [String], cache: inout Cache) -> Stats {
        // pycocoevalcap's `_stat`: hypothesis cleaned, line joined with " ||| "; the jar splits and trims.
        let hyp = hypothesis.replacingOccurrences(of: "|||", with: "").replacingOccurrences(of: "  ", with: " ")
        var parts = ("SCORE ||| " + references.joined(separator: " ||| ") + " ||| " + hyp).components(separatedBy: "|||")
        while parts.last == "" { parts.removeLast() }  // Java's split drops trailing empty strings
        guard parts.count >= 3 else { return Stats() }
        let test = sentence(javaTrim(parts[parts.count - 1]), cache: &cache)
        var best = Stats(), bestScore = -1.0
        for ref in parts[1..<(parts.count - 1)] {
            let s = stats(test: test, reference: sentence(javaTrim(ref), cache: &cache))
            let sc = score(s)
            if sc > bestScore { best = s; bestScore = sc }
        }
        return best
    }

    func sentence(_ text: String, cache: inout Cache) -> METEORAligner.Sentence {
        if let s = cache.sentences[text] { return s }
        let normalized = METEORNormalizer.normalize(text).lowercased()
        let words = METEORNormalizer.tokenize(Array(normalized.utf16)).map { String(decoding: $0, as: UTF16.self) }
        let stemKeys = words.map { w -> Int32 in
            if let k = cache.stemKeys[w] { return k }
            let k = METEORAligner.javaHash(SnowballEnglishStemmer.stem(w))
            cache.stemKeys[w] = k
            return k
        }
        let s = METEORAligner.Sentence(
            words: words, keys: words.map(METEORAligner.javaHash), stemKeys: stemKeys,
            isFunctionWord: words.map { resources.functionWords.contains($0.lowercased()) })
        cache.sentences[text] = s
        return s
    }

    func stats(test: METEORAligner.Sentence, reference: METEORAligner.Sentence) -> Stats {
        let a = METEORAligner.align(test: test, reference: reference, resources: resources)
        var s = Stats()
        s.testLength = test.words.count; s.referenceLength = reference.words.count
        s.testFunctionWords = test.isFunctionWord.filter { $0 }.count
        s.referenceFunctionWords = reference.isFunctionWord.filter { $0 }.count
        s.testStageContent = a.contentMatches1; s.referenceStageContent = a.contentMatches2
        s.testStageFunction = a.functionMatches1; s.referenceStageFunction = a.functionMatches2
        s.chunks = a.chunks
        s.testWordMatches = a.contentMatches1.reduce(0, +) + a.functionMatches1.reduce(0, +)
        s.referenceWordMatches = a.contentMatches2.reduce(0, +) + a.functionMatches2.reduce(0, +)
        return s
    }

    /// `MeteorScorer.computeMetrics`, in the reference's order of floating-point operations.
    public func score(_ s: Stats) -> Double {
        let p = parameters, w = p.moduleWeights
        let testWeightedLength = p.delta * Double(s.testLength - s.testFunctionWords) + (1.0 - p.delta) * Double(s.testFunctionWords)
        let refWeightedLength = p.delta * Double(s.referenceLength - s.referenceFunctionWords) + (1.0 - p.delta) * Double(s.referenceFunctionWords)
        var testMatches = 0.0, refMatches = 0.0
        for i in 0..<w.count { testMatches += Double(s.testStageContent[i]) * w[i] * p.delta }
        for i in 0..<w.count { refMatches += Double(s.referenceStageContent[i]) * w[i] * p.delta }
        for i in 0..<w.count { testMatches += Double(s.testStageFunction[i]) * w[i] * (1.0 - p.delta) }
        for i in 0..<w.count { refMatches += Double(s.referenceStageFunction[i]) * w[i] * (1.0 - p.delta) }
        let precision = testMatches / testWeightedLength
        let recall = refMatches / refWeightedLength
        let fMean = 1.0 / (((1.0 - p.alpha) / precision) + (p.alpha / recall))
        let frag = s.isPerfect ? 0 : Double(s.chunks) / (Double(s.testWordMatches + s.referenceWordMatches) / 2)
        let penalty = p.gamma * pow(frag, p.beta)
        let score = fMean * (1.0 - penalty)
        return score.isNaN ? 0 : max(score, 0)
    }

    /// Java's `String.trim()`: strips every code unit <= U+0020 at both ends.
    static func javaTrimmed(_ s: String) -> String {
        let u = Array(s.utf16)
        var lo = 0, hi = u.count
        while lo < hi && u[lo] <= 0x20 { lo += 1 }
        while hi > lo && u[hi - 1] <= 0x20 { hi -= 1 }
        return String(decoding: u[lo..<hi], as: UTF16.self)
    }
    func javaTrim(_ s: String) -> String { METEOR.javaTrimmed(s) }
}
