/// One category's detections after pycocotools' `computeIoU` + `evaluateImg` (COCOeval, iouType 'bbox')
/// over every image, in `accumulate`'s concatenation order: images by ascending id, each image's
/// detections sorted by score (stable) and cut to 100.
struct COCOEvalMatches {
    static let falsePositive: UInt8 = 0, truePositive: UInt8 = 1, ignored: UInt8 = 2

    var count = 0
    var scores: [Double] = []
    /// Rank within its image (0 = highest score), for the maxDets 1 / 10 cuts.
    var ranks: [Int32] = []
    /// For area range `a` and IoU threshold `t`, detection `j` is `states[(a * T + t) * count + j]`:
    /// what `dtMatches` / `dtIgnore` make of it in `accumulate` (tps / fps / neither).
    var states: [UInt8] = []
    /// Per area range: ground truths not ignored (`npig` summed over images).
    var groundTruths: [Int] = []

    init(_ p: COCOEvalPrepared, category k: Int) {
        let thresholds = COCOEvalParameters.iouThresholds, areas = COCOEvalParameters.areaRanges
        let T = thresholds.count, A = areas.count
        let maxDet = COCOEvalParameters.maxDetections.last!
        let images = p.imageCount
        for i in 0..<images {
            let g = k * images + i
            count += min(Int(p.dtStart[g + 1] - p.dtStart[g]), maxDet)
        }
        let n = count
        var scores: [Double] = [], ranks: [Int32] = []
        scores.reserveCapacity(n); ranks.reserveCapacity(n)
        var states = [UInt8](repeating: 0, count: A * T * n)
        var groundTruths = [Int](repeating: 0, count: A)

        // Scratch reused across images.
        var order: [Int] = [], ious: [Double] = []
        var gtIgnored: [Bool] = [], gtSorted: [Int] = [], gtMatched: [Bool] = []
        var offset = 0
        for i in 0..<images {
            let group = k * images + i
            let g0 = Int(p.gtStart[group]), G = Int(p.gtStart[group + 1]) - g0
            let d0 = Int(p.dtStart[group]), allD = Int(p.dtStart[group + 1]) - d0
            if G == 0 && allD == 0 { continue }  // evaluateImg returns None

            // dt sorted by -score with a stable sort (np.argsort kind='mergesort'), cut to maxDets[-1].
            order.removeAll(keepingCapacity: true)
            order.append(contentsOf: 0..<allD)
            order.sort { a, b in
                let sa = p.dtScore[d0 + a], sb = p.dtScore[d0 + b]
                return sa > sb || (sa == sb && a < b)
            }
            let D = min(allD, maxDet)
            for r in 0..<D { scores.append(p.dtScore[d0 + order[r]]); ranks.append(Int32(r)) }

            // computeIoU: [D x G] with the ground truths in file order (maskUtils.iou is empty when
            // either side is, and then no matching happens).
            ious.removeAll(keepingCapacity: true)
            if G > 0 && D > 0 {
                for d in 0..<D {
                    let db = 4 * (d0 + order[d])
                    for gi in 0..<G {
                        let gb = 4 * (g0 + gi)
                        ious.append(cocoBoxIoU(p.dtBox[db..<db + 4], p.gtBox[gb..<gb + 4], crowd: p.gtCrowd[g0 + gi]))
                    }
                }
            }

            for (a, range) in areas.enumerated() {
                // _ignore: crowd (iscrowd, which _prepare also writes into 'ignore') or area outside
                // the inclusive range; then ground truths sorted ignored-last, stably.
                gtIgnored.removeAll(keepingCapacity: true); gtSorted.removeAll(keepingCapacity: true)
                for gi in 0..<G {
                    let area = p.gtArea[g0 + gi]
                    gtIgnored.append(p.gtCrowd[g0 + gi] || area < range.lo || area > range.hi)
                }
                for gi in 0..<G where !gtIgnored[gi] { gtSorted.append(gi) }
                groundTruths[a] += gtSorted.count
                for gi in 0..<G where gtIgnored[gi] { gtSorted.append(gi) }

                for t in 0..<T {
                    let base = (a * T + t) * n + offset
                    gtMatched.removeAll(keepingCapacity: true)
                    gtMatched.append(contentsOf: repeatElement(false, count: G))
                    let threshold = min(thresholds[t], 1 - 1e-10)
                    for d in 0..<D {
                        let darea = p.dtArea[d0 + order[d]]
                        let outside = darea < range.lo || darea > range.hi
                        // Greedy match, line for line as evaluateImg: the best IoU >= threshold
                        // among gts not yet matched (crowds stay available); once a regular gt is
                        // matched, ignored ones (sorted last) are not considered; an equal IoU
                        // later in the order replaces the earlier match.
                        var best = threshold, m = -1
                        for s in 0..<G {
                            let gi = gtSorted[s]
                            if gtMatched[s] && !p.gtCrowd[g0 + gi] { continue }
                            if m > -1 && !gtIgnored[gtSorted[m]] && gtIgnored[gi] { break }
                            let v = ious[d * G + gi]
                            if v < best { continue }
                            best = v; m = s
                        }
                        guard m > -1 else {
                            // Unmatched: ignored when outside the area range, else a false positive.
                            states[base + d] = outside ? Self.ignored : Self.falsePositive
                            continue
                        }
                        gtMatched[m] = true
                        // dtMatches holds the gt's id, and accumulate reads 0 as "unmatched": a match
                        // to a gt with id 0 counts as a false positive (and is ignored if outside).
                        let gtID = p.gtID[g0 + gtSorted[m]]
                        let ignore = gtIgnored[gtSorted[m]] || (gtID == 0 && outside)
                        states[base + d] = ignore ? Self.ignored : (gtID != 0 ? Self.truePositive : Self.falsePositive)
                    }
                }
            }
            offset += D
        }
        self.scores = scores; self.ranks = ranks; self.states = states; self.groundTruths = groundTruths
    }
}
