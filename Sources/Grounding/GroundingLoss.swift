import Imaging
import Tensor

/// One training image's ground truth, in the model input's pixels: each box with the index of
/// its phrase in the prompt.
public struct GroundingTarget: Sendable {
    public var boxes: [Box]
    public var phrases: [Int]
    public init(boxes: [Box], phrases: [Int]) { self.boxes = boxes; self.phrases = phrases }

    /// The phrases of every box that is the same region as box `g` (its own included): "heart" and
    /// "cardiomegaly" drawn on one outline. ATSS gives a point to one box only, so without this
    /// the other phrase would never have a positive point; GLIP's positive map lets one box carry
    /// several phrases' tokens.
    public func phrases(sharingBox g: Int, minIoU: Float = 0.95) -> [Int] {
        boxes.indices.filter { $0 == g || boxes[$0].iou(boxes[g]) >= minIoU }.map { phrases[$0] }
    }
}

/// GLIP's losses: token-level sigmoid focal loss (alpha 0.25, gamma 2) over every prompt token of
/// every point, normalised by the number of positive points; GIoU of decoded boxes weighted by the
/// centerness targets; binary cross-entropy of centerness on positive points.
public struct GroundingLoss {
    public struct Terms {
        public var classification, regression, centerness: Tensor
        public var total: Tensor { classification + regression + centerness }
        public var positives: Int
    }

    let grid: PointGrid
    let assigner: ATSSAssigner

    public init(grid: PointGrid, ambiguity: ATSSAssigner.Ambiguity = .largestIoU) {
        self.grid = grid; assigner = ATSSAssigner(ambiguity: ambiguity)
    }

    /// Which points of a batch are positive, for which prompt tokens, and the box each regresses
    /// to: computed before the forward pass, so data-parallel ranks can agree on the normalisers.
    public struct Assignment {
        var tokenTargets: [Float]
        var rows: [Int] = [], pointXY: [Float] = [], strideSigns: [Float] = [], goal: [Float] = [], centerness: [Float] = []
        /// The normalisers of this batch alone: positive points, and the sum of their centerness targets.
        public var positives: Int { rows.count }
        public var centernessSum: Float { centerness.reduce(0, +) }
    }

    func assign(_ targets: [GroundingTarget], prompt: GroundingPrompt) -> Assignment {
        let (p, t) = (grid.count, prompt.tokenIDs.count)
        var a = Assignment(tokenTargets: [Float](repeating: 0, count: targets.count * p * t))
        for (i, target) in targets.enumerated() {
            let phrasesOfBox = target.boxes.indices.map { target.phrases(sharingBox: $0) }
            for (point, assigned) in assigner.assign(grid, boxes: target.boxes).enumerated() {
                guard let g = assigned else { continue }
                for phrase in phrasesOfBox[g] {
                    for token in prompt.positiveMap[phrase] { a.tokenTargets[(i * p + point) * t + token] = 1 }
                }
                let box = target.boxes[g], pt = grid.points[point], s = Float(grid.level(of: point).stride)
                a.rows.append(i * p + point)
                a.pointXY += [pt.x, pt.y, pt.x, pt.y]
                a.strideSigns += [-s, -s, s, s]
                a.goal += [box.x1, box.y1, box.x2, box.y2]
                a.centerness.append(BoxCoding.centerness(BoxCoding.encode(box, point: pt, stride: Int(s))))
            }
        }
        return a
    }

    func callAsFunction(_ out: AlignmentHead.Output, targets: [GroundingTarget], prompt: GroundingPrompt) -> Terms {
        let a = assign(targets, prompt: prompt)
        return terms(out, a, positives: a.positives, centernessSum: a.centernessSum)
    }

    /// The losses of `out` under assignment `a`, normalised by `positives` and `centernessSum`
    /// (the whole global batch's, when it is split over ranks or micro-batches).
    func terms(_ out: AlignmentHead.Output, _ a: Assignment, positives: Int, centernessSum: Float) -> Terms {
        let (b, p, t) = (out.logits.shape[0], out.logits.shape[1], out.logits.shape[2])
        precondition(p == grid.count && a.tokenTargets.count == b * p * t, "outputs and targets disagree")
        let n = a.rows.count, norm = Float(max(positives, 1))
        let cls = sigmoidFocalLoss(out.logits, targets: Tensor(a.tokenTargets, shape: [b, p, t]), alpha: 0.25, gamma: 2, reduction: .sum) / norm
        guard n > 0 else { return Terms(classification: cls, regression: out.ltrb.sum() * 0, centerness: out.centerness.sum() * 0, positives: 0) }
        // Decoded box = point + ltrb * (-s, -s, s, s).
        let ltrb = out.ltrb.reshaped([b * p, 4]).indexSelect(axis: 0, a.rows)
        let predicted = Tensor(a.pointXY, shape: [n, 4]) + ltrb * Tensor(a.strideSigns, shape: [n, 4])
        let weights = Tensor(a.centerness, shape: [n])
        let giou = giouLoss(predicted, Tensor(a.goal, shape: [n, 4]), reduction: .none)
        let reg = (giou * weights).sum() / max(centernessSum, 1e-6)
        let ctr = bceWithLogits(out.centerness.reshaped([b * p]).indexSelect(axis: 0, a.rows), targets: weights, reduction: .sum) / norm
        return Terms(classification: cls, regression: reg, centerness: ctr, positives: n)
    }
}
