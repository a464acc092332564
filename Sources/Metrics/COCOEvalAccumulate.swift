/// One category's slice of pycocotools' `COCOeval.accumulate()` arrays: `precision[t, r, k, a, m]` and
/// `recall[t, k, a, m]`, -1 where the category has no non-ignored ground truth for that area range.
struct COCOEvalCurves: Sendable {
    /// `precision[((a * M + m) * T + t) * R + r]`.
    var precision: [Double]
    /// `recall[(a * M + m) * T + t]`.
    var recall: [Double]

    init(_ matches: COCOEvalMatches) {
        let T = COCOEvalParameters.iouThresholds.count, R = COCOEvalParameters.recallThresholds.count
        let maxDets = COCOEvalParameters.maxDetections, M = maxDets.count, A = COCOEvalParameters.areaRanges.count
        let recallThresholds = COCOEvalParameters.recallThresholds
        var precision = [Double](repeating: -1, count: A * M * T * R)
        var recall = [Double](repeating: -1, count: A * M * T)
        let n = matches.count

        // np.argsort(-dtScores, kind='mergesort') over the images' concatenated detections: a stable
        // sort, so ties keep image order, then rank order. The maxDets 1 / 10 sets are subsets of the
        // same concatenation in the same relative order, so filtering this one order by rank equals
        // sorting each subset on its own.
        let scores = matches.scores
        let order = (0..<n).sorted { a, b in scores[a] > scores[b] || (scores[a] == scores[b] && a < b) }
        var rc = [Double](repeating: 0, count: n), pr = [Double](repeating: 0, count: n)
        let spacing = 1.0.ulp  // np.spacing(1)

        for (m, maxDet) in maxDets.enumerated() {
            let selected = maxDet >= maxDets.last! ? order : order.filter { Int(matches.ranks[$0]) < maxDet }
            let nd = selected.count
            for a in 0..<A {
                let npig = matches.groundTruths[a]
                if npig == 0 { continue }  // also covers "no image has gts or dts" (E empty)
                for t in 0..<T {
                    let base = (a * T + t) * n
                    var tp = 0, fp = 0
                    for (j, d) in selected.enumerated() {
                        switch matches.states[base + d] {
                        case COCOEvalMatches.truePositive: tp += 1
                        case COCOEvalMatches.falsePositive: fp += 1
                        default: break
                        }
                        // Ignored detections keep their slot (as in the cumsums) with unchanged values.
                        rc[j] = Double(tp) / Double(npig)
                        pr[j] = Double(tp) / (Double(fp) + Double(tp) + spacing)
                    }
                    let cell = (a * M + m) * T + t
                    recall[cell] = nd > 0 ? rc[nd - 1] : 0
                    // Precision made monotone from the right.
                    if nd > 1 {
                        for i in stride(from: nd - 1, to: 0, by: -1) where pr[i] > pr[i - 1] { pr[i - 1] = pr[i] }
                    }
                    // np.searchsorted(rc, recThrs, side='left'): the first index with rc >= threshold;
                    // recall points past the end keep 0 (the IndexError pycocotools swallows).
                    var idx = 0
                    for (r, threshold) in recallThresholds.enumerated() {
                        while idx < nd && rc[idx] < threshold { idx += 1 }
                        precision[cell * R + r] = idx < nd ? pr[idx] : 0
                    }
                }
            }
        }
        self.precision = precision
        self.recall = recall
    }
}
