import Foundation

/// How a normalisation divides by the spread.
public enum NormVariant: Sendable {
    /// (x - mean) / sqrt(var + eps) with the biased variance (PyTorch's LayerNorm, GroupNorm).
    case standard
    /// (x - mean) / (std + eps) with the unbiased std: the LayerNorm of R2Gen and the annotated transformer.
    case unbiasedStd
}

extension Tensor {
    /// Normalises each run of `chunk` consecutive values to zero mean and unit spread (no affine).
    /// Layer norm is `chunk` = last dimension; group norm over NCHW is `chunk` = C/G * H * W.
    public func normalizeChunks(_ chunk: Int, eps: Float, variant: NormVariant = .standard) -> Tensor {
        precondition(chunk > 0 && count % chunk == 0, "chunk \(chunk) does not divide \(count) values")
        let chunks = count / chunk
        var out = [Float](repeating: 0, count: count)
        var spread = [Float](repeating: 0, count: chunks)  // sigma (standard) or std (unbiased) per chunk
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                spread.withUnsafeMutableBufferPointer { sp in
                    Threads.forEachChunk(chunks, minChunk: Swift.max(1, Threads.parallelThreshold / chunk)) { range in
                        for c in range {
                            let base = c * chunk
                            var mean: Float = 0
                            for i in 0..<chunk { mean += x[base + i] }
                            mean /= Float(chunk)
                            var ss: Float = 0
                            for i in 0..<chunk { let d = x[base + i] - mean; ss += d * d }
                            let denom: Float
                            switch variant {
                            case .standard:
                                sp[c] = (ss / Float(chunk) + eps).squareRoot(); denom = sp[c]
                            case .unbiasedStd:
                                sp[c] = (ss / Float(Swift.max(chunk - 1, 1))).squareRoot(); denom = sp[c] + eps
                            }
                            for i in 0..<chunk { y[base + i] = (x[base + i] - mean) / denom }
                        }
                    }
                }
            }
        }
        return Tensor.result(shape, out, [self]) { y in
            let x = y.inputs[0]
            y.grad!.withUnsafeBufferPointer { g in
                y.data.withUnsafeBufferPointer { yh in
                    x.accumulateGrad { gx in
                        Threads.forEachChunk(chunks, minChunk: Swift.max(1, Threads.parallelThreshold / chunk)) { range in
                            for c in range {
                                let base = c * chunk
                                var gMean: Float = 0, gyMean: Float = 0
                                for i in 0..<chunk { gMean += g[base + i]; gyMean += g[base + i] * yh[base + i] }
                                gMean /= Float(chunk); gyMean /= Float(chunk)
                                switch variant {
                                case .standard:
                                    let inv = 1 / spread[c]
                                    for i in 0..<chunk { gx[base + i] += inv * (g[base + i] - gMean - yh[base + i] * gyMean) }
                                case .unbiasedStd:
                                    let s = spread[c], inv = 1 / (s + eps)
                                    // d/dx of (x-mean)/(std+eps): the std term scales y by sum(g*y)/((n-1)*std).
                                    let k = s > 0 ? gyMean * Float(chunk) / (Float(chunk - 1) * s) : 0
                                    for i in 0..<chunk { gx[base + i] += inv * (g[base + i] - gMean) - k * yh[base + i] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Per-channel normalisation of NCHW over (N, H, W) with the given statistics, or the batch's
    /// own when `mean`/`variance` are nil. Returns the normalised tensor and the batch statistics used.
    func normalizeChannels(eps: Float, mean fixedMean: [Float]?, variance fixedVar: [Float]?)
        -> (Tensor, mean: [Float], variance: [Float])
    {
        let (n, c, h, w) = nchw
        let hw = h * w, m = Float(n * hw)
        var mean = fixedMean ?? [Float](repeating: 0, count: c)
        var variance = fixedVar ?? [Float](repeating: 0, count: c)
        let batchStats = fixedMean == nil
        if batchStats {
            for ch in 0..<c {
                var s: Float = 0
                for i in 0..<n { for j in 0..<hw { s += data[(i * c + ch) * hw + j] } }
                mean[ch] = s / m
                var ss: Float = 0
                for i in 0..<n { for j in 0..<hw { let d = data[(i * c + ch) * hw + j] - mean[ch]; ss += d * d } }
                variance[ch] = ss / m
            }
        }
        let inv = variance.map { 1 / ($0 + eps).squareRoot() }
        var out = data
        for i in 0..<n {
            for ch in 0..<c {
                for j in 0..<hw {
                    let k = (i * c + ch) * hw + j
                    out[k] = (data[k] - mean[ch]) * inv[ch]
                }
            }
        }
        let y = Tensor.result(shape, out, [self]) { y in
            let g = y.grad!, yh = y.data
            y.inputs[0].accumulateGrad { gx in
                for ch in 0..<c {
                    var gMean: Float = 0, gyMean: Float = 0
                    if batchStats {
                        for i in 0..<n { for j in 0..<hw { let k = (i * c + ch) * hw + j; gMean += g[k]; gyMean += g[k] * yh[k] } }
                        gMean /= m; gyMean /= m
                    }
                    for i in 0..<n {
                        for j in 0..<hw {
                            let k = (i * c + ch) * hw + j
                            gx[k] += inv[ch] * (g[k] - gMean - yh[k] * gyMean)
                        }
                    }
                }
            }
        }
        return (y, mean, variance)
    }
}

/// Layer norm over the last dimension with affine `gamma`, `beta` (both `[D]`, or any shape that
/// broadcasts, e.g. R2Gen's memory-conditioned gammas).
public func layerNorm(
    _ x: Tensor, gamma: Tensor?, beta: Tensor?, eps: Float = 1e-5,
    variant: NormVariant = .standard
) -> Tensor {
    if let gamma, let beta, gamma.shape == [x.shape.last!], beta.shape == gamma.shape {
        return fusedLayerNorm(x, gamma: gamma, beta: beta, eps: eps, variant: variant)
    }
    var y = x.normalizeChunks(x.shape.last!, eps: eps, variant: variant)
    if let gamma { y = y * gamma }
    if let beta { y = y + beta }
    return y
}

/// Group norm over NCHW with per-channel affine parameters `[C]`.
public func groupNorm(_ x: Tensor, groups: Int, gamma: Tensor?, beta: Tensor?, eps: Float = 1e-5) -> Tensor {
    let (_, c, h, w) = x.nchw
    precondition(c % groups == 0, "group norm: \(c) channels do not split into \(groups) groups")
    if let gamma, let beta, gamma.shape == [c], beta.shape == [c] {
        return fusedGroupNorm(x, groups: groups, gamma: gamma, beta: beta, eps: eps)
    }
    var y = x.normalizeChunks(c / groups * h * w, eps: eps)
    if let gamma { y = y * gamma.reshaped([1, c, 1, 1]) }
    if let beta { y = y + beta.reshaped([1, c, 1, 1]) }
    return y
}

/// Batch norm over NCHW. In training it normalises with the batch statistics and updates the
/// running ones (momentum as in PyTorch, unbiased running variance); in eval it uses the running ones.
public func batchNorm(
    _ x: Tensor, runningMean: Tensor, runningVar: Tensor, gamma: Tensor?, beta: Tensor?,
    training: Bool, momentum: Float = 0.1, eps: Float = 1e-5
) -> Tensor {
    let (n, c, h, w) = x.nchw
    var y: Tensor
    if training {
        let (normed, mean, variance) = x.normalizeChannels(eps: eps, mean: nil, variance: nil)
        y = normed
        let m = Float(n * h * w), unbias = m > 1 ? m / (m - 1) : 1
        for ch in 0..<c {
            runningMean.data[ch] = (1 - momentum) * runningMean.data[ch] + momentum * mean[ch]
            runningVar.data[ch] = (1 - momentum) * runningVar.data[ch] + momentum * variance[ch] * unbias
        }
    } else {
        y = x.normalizeChannels(eps: eps, mean: runningMean.data, variance: runningVar.data).0
    }
    if let gamma { y = y * gamma.reshaped([1, c, 1, 1]) }
    if let beta { y = y + beta.reshaped([1, c, 1, 1]) }
    return y
}
