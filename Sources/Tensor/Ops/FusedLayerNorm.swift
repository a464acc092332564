/// Layer norm with per-feature `gamma`, `beta` `[D]` as one op: one pass per row forward, and one
/// backward pass giving dx, dgamma and dbeta (the unfused normalise, scale, shift takes three each).
func fusedLayerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float, variant: NormVariant) -> Tensor {
    let d = x.shape.last!, rows = x.count / Swift.max(d, 1)
    var out = [Float](unsafeUninitializedCapacity: x.count) { _, k in k = x.count }
    var normalized = [Float](unsafeUninitializedCapacity: x.count) { _, k in k = x.count }
    var spread = [Float](unsafeUninitializedCapacity: rows) { _, k in k = rows }
    let minRows = Swift.max(1, Threads.parallelThreshold / Swift.max(d, 1))
    x.data.withUnsafeBufferPointer { px in
        gamma.data.withUnsafeBufferPointer { pg in
            beta.data.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    normalized.withUnsafeMutableBufferPointer { pn in
                        spread.withUnsafeMutableBufferPointer { ps in
                            Threads.forEachChunk(rows, minChunk: minRows) { range in
                                for r in range {
                                    let base = r &* d
                                    var mean: Float = 0
                                    for i in 0..<d { mean += px[base &+ i] }
                                    mean /= Float(d)
                                    var ss: Float = 0
                                    for i in 0..<d { let c = px[base &+ i] - mean; ss += c * c }
                                    let denominator: Float
                                    switch variant {
                                    case .standard: ps[r] = (ss / Float(d) + eps).squareRoot(); denominator = ps[r]
                                    case .unbiasedStd: ps[r] = (ss / Float(Swift.max(d - 1, 1))).squareRoot(); denominator = ps[r] + eps
                                    }
                                    let inverse = 1 / denominator
                                    for i in 0..<d {
                                        let n = (px[base &+ i] - mean) * inverse
                                        pn[base &+ i] = n
                                        po[base &+ i] = n * pg[i] + pb[i]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return Tensor.result(x.shape, out, [x, gamma, beta]) { y in
        layerNormBackward(y.grad!, x: x, gamma: gamma, beta: beta, normalized: normalized, spread: spread, eps: eps, variant: variant)
    }
}

private func layerNormBackward(
    _ grad: [Float], x: Tensor, gamma: Tensor, beta: Tensor, normalized: [Float], spread: [Float],
    eps: Float, variant: NormVariant
) {
    let d = gamma.count, rows = x.count / Swift.max(d, 1)
    let workers = Threads.workers(for: rows)
    // Each worker sums dgamma, dbeta over its rows; the partial sums are added in worker order.
    var partials = [Float](repeating: 0, count: workers * 2 * d)
    var dx = [Float](unsafeUninitializedCapacity: x.requiresGrad ? x.count : 0) { _, k in k = x.requiresGrad ? x.count : 0 }
    let wantDX = x.requiresGrad
    grad.withUnsafeBufferPointer { pgrad in
        normalized.withUnsafeBufferPointer { pn in
            gamma.data.withUnsafeBufferPointer { pgamma in
                partials.withUnsafeMutableBufferPointer { pp in
                    dx.withUnsafeMutableBufferPointer { pdx in
                        nonisolated(unsafe) let (g, n, gm) = (pgrad.baseAddress!, pn.baseAddress!, pgamma.baseAddress!)
                        nonisolated(unsafe) let (pp, pdx) = (pp.baseAddress!, pdx.baseAddress)
                        Threads.forEachWorker(rows) { worker, range in
                            let dGamma = pp + worker &* 2 &* d, dBeta = dGamma + d
                            for r in range {
                                let base = r &* d
                                var gyMean: Float = 0, gyNMean: Float = 0
                                for i in 0..<d {
                                    let gi = g[base &+ i], ni = n[base &+ i]
                                    dGamma[i] += gi * ni
                                    dBeta[i] += gi
                                    let gy = gi * gm[i]
                                    gyMean += gy; gyNMean += gy * ni
                                }
                                guard wantDX, let pdx else { continue }
                                gyMean /= Float(d); gyNMean /= Float(d)
                                switch variant {
                                case .standard:
                                    let inverse = 1 / spread[r]
                                    for i in 0..<d { pdx[base &+ i] = inverse * (g[base &+ i] * gm[i] - gyMean - n[base &+ i] * gyNMean) }
                                case .unbiasedStd:
                                    // d/dx of (x - mean)/(std + eps): the std term scales n by sum(gy * n)/((d - 1) std).
                                    let s = spread[r], inverse = 1 / (s + eps)
                                    let k = s > 0 ? gyNMean * Float(d) / (Float(d - 1) * s) : 0
                                    for i in 0..<d { pdx[base &+ i] = inverse * (g[base &+ i] * gm[i] - gyMean) - k * n[base &+ i] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    if wantDX { x.accumulateGrad(taking: dx) }
    for (t, offset) in [(gamma, 0), (beta, d)] where t.requiresGrad {
        t.accumulateGrad { gt in for w in 0..<workers { for i in 0..<d { gt[i] += partials[w &* 2 &* d &+ offset &+ i] } } }
    }
}
