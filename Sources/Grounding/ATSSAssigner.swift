import Imaging

/// Adaptive training sample selection (Zhang et al. 2020) on grid points: for each ground-truth
/// box, the `topK` points per level nearest its centre are candidates; those whose anchor's IoU
/// with the box reaches mean + std of the candidates' IoUs, and whose point lies inside the box,
/// are positives. A point claimed by several boxes goes to the one its anchor overlaps most
/// (ATSS, GLIP) or to the smallest (FCOS): a finding inside an organ of about the anchor's size,
/// such as a renal cyst in a kidney, loses its shared points to the organ under the first rule.
public struct ATSSAssigner: Sendable {
    public enum Ambiguity: String, Sendable, CaseIterable { case largestIoU = "iou", smallestBox = "area" }

    public var topK = 9
    public var ambiguity: Ambiguity

    public init(topK: Int = 9, ambiguity: Ambiguity = .largestIoU) { self.topK = topK; self.ambiguity = ambiguity }

    /// For each grid point, the index of its assigned box, or nil (background).
    public func assign(_ grid: PointGrid, boxes: [Box]) -> [Int?] {
        // Each claim's rank: higher wins.
        var best = [(box: Int, rank: Float)?](repeating: nil, count: grid.count)
        for (g, box) in boxes.enumerated() where box.isValid {
            let c = box.center
            var candidates: [Int] = []
            for level in grid.levels {
                let range = level.offset..<(level.offset + level.width * level.height)
                let nearest = range.map { i in
                    (i, (grid.points[i].x - c.x) * (grid.points[i].x - c.x) + (grid.points[i].y - c.y) * (grid.points[i].y - c.y))
                }
                .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
                candidates += nearest.prefix(topK).map(\.0)
            }
            let ious = candidates.map { grid.anchor($0).iou(box) }
            let mean = ious.reduce(0, +) / Float(ious.count)
            // torch.std: the unbiased estimate, as ATSS computes it.
            let variance = ious.count > 1 ? ious.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(ious.count - 1) : 0
            let threshold = mean + variance.squareRoot()
            let area = (box.x2 - box.x1) * (box.y2 - box.y1)
            for (i, iou) in zip(candidates, ious) where iou >= threshold {
                let p = grid.points[i]
                let inside = min(p.x - box.x1, p.y - box.y1, box.x2 - p.x, box.y2 - p.y) > 0.01
                guard inside else { continue }
                let rank = ambiguity == .largestIoU ? iou : -area
                if best[i] == nil || rank > best[i]!.rank { best[i] = (g, rank) }
            }
        }
        return best.map { $0?.box }
    }
}

/// Greedy non-maximum suppression per class: keeps the highest-scoring box, drops others of its
/// class that overlap it by more than `iouThreshold`, and returns at most `limit` indices by score.
public func classwiseNMS(boxes: [Box], scores: [Float], classes: [Int], iouThreshold: Float = 0.6, limit: Int = 100) -> [Int] {
    let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
    var kept: [Int] = []
    for i in order {
        if kept.contains(where: { classes[$0] == classes[i] && boxes[$0].iou(boxes[i]) > iouThreshold }) { continue }
        kept.append(i)
        if kept.count == limit { break }
    }
    return kept
}
