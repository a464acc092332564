/// Clamps every gradient value into [-clip, clip] (PyTorch's clip_grad_value_).
public func clipGradValue(_ params: [Tensor], _ clip: Float) {
    for p in params where p.grad != nil {
        p.accumulateGrad { g in for i in 0..<p.count { g[i] = min(max(g[i], -clip), clip) } }
    }
}

/// Scales all gradients so their joint L2 norm is at most `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ params: [Tensor], maxNorm: Float) -> Float {
    var total: Double = 0
    for p in params { if let g = p.grad { for x in g { total += Double(x) * Double(x) } } }
    let norm = Float(total.squareRoot())
    let scale = maxNorm / (norm + 1e-6)
    if scale < 1 {
        for p in params where p.grad != nil { p.accumulateGrad { g in for i in 0..<p.count { g[i] *= scale } } }
    }
    return norm
}
