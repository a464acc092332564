import Foundation

/// How a per-element loss is reduced.
public enum Reduction: Sendable { case none, sum, mean }

extension Tensor {
    func reduce(_ r: Reduction) -> Tensor {
        switch r {
        case .none: return self
        case .sum: return sum()
        case .mean: return mean()
        }
    }
}

/// Negative log-likelihood of `targets` under `logProbs` `[N, C]`.
///
/// Rows whose target is `ignoreIndex` or whose `mask` weight is 0 do not count; the mean divides
/// by the total weight of the rows that count (R2Gen's masked language-model loss).
public func nllLoss(
    _ logProbs: Tensor, targets: [Int], ignoreIndex: Int? = nil, mask: [Float]? = nil,
    reduction: Reduction = .mean
) -> Tensor {
    precondition(
        logProbs.rank == 2 && logProbs.shape[0] == targets.count,
        "nllLoss wants [N, C] log-probs and N targets, got \(logProbs.shape), \(targets.count)")
    let (n, c) = (logProbs.shape[0], logProbs.shape[1])
    precondition(mask == nil || mask!.count == n, "nllLoss mask has \(mask!.count) weights for \(n) rows")
    var weights = mask ?? [Float](repeating: 1, count: n)
    for i in 0..<n {
        if targets[i] == ignoreIndex { weights[i] = 0; continue }
        precondition(targets[i] >= 0 && targets[i] < c, "nllLoss target \(targets[i]) out of range 0..<\(c)")
    }
    let total = weights.reduce(0, +)
    let scale: Float = reduction == .mean ? (total > 0 ? 1 / total : 0) : 1
    if reduction == .none {
        let out = (0..<n).map { weights[$0] == 0 ? 0 : -weights[$0] * logProbs.data[$0 * c + targets[$0]] }
        return Tensor.result([n], out, [logProbs]) { y in
            let g = y.grad!
            logProbs.accumulateGrad { gx in for i in 0..<n where weights[i] != 0 { gx[i * c + targets[i]] -= weights[i] * g[i] } }
        }
    }
    var loss: Float = 0
    for i in 0..<n where weights[i] != 0 { loss -= weights[i] * logProbs.data[i * c + targets[i]] }
    return Tensor.result([], [loss * scale], [logProbs]) { y in
        let g = y.grad![0] * scale
        logProbs.accumulateGrad { gx in for i in 0..<n where weights[i] != 0 { gx[i * c + targets[i]] -= weights[i] * g } }
    }
}

/// Cross-entropy of `logits` `[N, C]` against class indices (log-softmax + NLL).
public func crossEntropy(
    _ logits: Tensor, targets: [Int], ignoreIndex: Int? = nil, mask: [Float]? = nil,
    reduction: Reduction = .mean
) -> Tensor {
    nllLoss(logits.logSoftmax(axis: -1), targets: targets, ignoreIndex: ignoreIndex, mask: mask, reduction: reduction)
}

/// Binary cross-entropy on logits, computed stably: max(x,0) - x t + log(1 + e^-|x|).
public func bceWithLogits(_ logits: Tensor, targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    Tensor.binary(
        logits, targets,
        { x, t in Swift.max(x, 0) - x * t + log1p(exp(-Swift.abs(x))) },
        da: { x, t, _ in Tensor.sigmoid(x) - t },
        db: { x, _, _ in -x }
    )
    .reduce(reduction)
}

/// Sigmoid focal loss (Lin et al. 2017; torchvision's `sigmoid_focal_loss`):
/// alpha_t (1 - p_t)^gamma BCE(x, t). A negative `alpha` disables the class weighting.
public func sigmoidFocalLoss(
    _ logits: Tensor, targets: Tensor, alpha: Float = 0.25, gamma: Float = 2,
    reduction: Reduction = .sum
) -> Tensor {
    let p = logits.sigmoid()
    let ce = bceWithLogits(logits, targets: targets, reduction: .none)
    // 1 - p_t = p + t - 2 p t
    let oneMinusPt = (p + targets - 2 * p * targets).clamp(min: 0)
    var loss = ce * oneMinusPt.pow(gamma)
    if alpha >= 0 { loss = loss * (targets * (2 * alpha - 1) + (1 - alpha)) }
    return loss.reduce(reduction)
}

/// Mean absolute error.
public func l1Loss(_ pred: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    (pred - target).abs().reduce(reduction)
}

/// Huber-style smooth L1: 0.5 d^2 / beta for |d| < beta, else |d| - 0.5 beta.
public func smoothL1Loss(_ pred: Tensor, _ target: Tensor, beta: Float = 1, reduction: Reduction = .mean) -> Tensor {
    (pred - target).unary(
        { d in Swift.abs(d) < beta ? 0.5 * d * d / beta : Swift.abs(d) - 0.5 * beta },
        d: { d, _ in Swift.abs(d) < beta ? d / beta : (d > 0 ? 1 : -1) }
    )
    .reduce(reduction)
}

/// 1 - GIoU (Rezatofighi et al. 2019) between paired boxes `[N, 4]` as (x1, y1, x2, y2).
public func giouLoss(_ pred: Tensor, _ target: Tensor, reduction: Reduction = .mean, eps: Float = 1e-7) -> Tensor {
    precondition(
        pred.rank == 2 && pred.shape[1] == 4 && pred.shape == target.shape, "giouLoss wants [N, 4] boxes, got \(pred.shape), \(target.shape)")
    let p = pred.split([1, 1, 1, 1], axis: 1), t = target.split([1, 1, 1, 1], axis: 1)
    let areaP = (p[2] - p[0]) * (p[3] - p[1]), areaT = (t[2] - t[0]) * (t[3] - t[1])
    let iw = (Tensor.minimum(p[2], t[2]) - Tensor.maximum(p[0], t[0])).clamp(min: 0)
    let ih = (Tensor.minimum(p[3], t[3]) - Tensor.maximum(p[1], t[1])).clamp(min: 0)
    let inter = iw * ih
    let union = areaP + areaT - inter + eps
    let iou = inter / union
    let ew = Tensor.maximum(p[2], t[2]) - Tensor.minimum(p[0], t[0])
    let eh = Tensor.maximum(p[3], t[3]) - Tensor.minimum(p[1], t[1])
    let enclose = ew * eh + eps
    let giou = iou - (enclose - union) / enclose
    return (1 - giou).reshaped([pred.shape[0]]).reduce(reduction)
}
