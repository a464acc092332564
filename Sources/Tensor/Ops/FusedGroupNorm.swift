/// Group norm over NCHW with per-channel `gamma`, `beta` `[C]` as one op: one pass per group
/// forward, and one backward pass giving dx, dgamma and dbeta (the unfused normalise, scale, shift
/// takes three, two of them broadcasts).
func fusedGroupNorm(_ x: Tensor, groups: Int, gamma: Tensor, beta: Tensor, eps: Float) -> Tensor {
    let (n, c, h, w) = x.nchw
    let hw = h * w, perGroup = c / groups, chunk = perGroup * hw, chunks = n * groups
    var out = [Float](unsafeUninitializedCapacity: x.count) { _, k in k = x.count }
    var normalized = [Float](unsafeUninitializedCapacity: x.count) { _, k in k = x.count }
    var sigma = [Float](unsafeUninitializedCapacity: chunks) { _, k in k = chunks }
    let minChunks = Swift.max(1, Threads.parallelThreshold / Swift.max(chunk, 1))
    x.data.withUnsafeBufferPointer { px in
        gamma.data.withUnsafeBufferPointer { pg in
            beta.data.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    normalized.withUnsafeMutableBufferPointer { pn in
                        sigma.withUnsafeMutableBufferPointer { ps in
                            Threads.forEachChunk(chunks, minChunk: minChunks) { range in
                                for k in range {
                                    let base = k &* chunk, firstChannel = (k % groups) &* perGroup
                                    var mean: Float = 0
                                    for i in 0..<chunk { mean += px[base &+ i] }
                                    mean /= Float(chunk)
                                    var ss: Float = 0
                                    for i in 0..<chunk { let d = px[base &+ i] - mean; ss += d * d }
                                    ps[k] = (ss / Float(chunk) + eps).squareRoot()
                                    let inverse = 1 / ps[k]
                                    for j in 0..<perGroup {
                                        let (scale, shift, row) = (pg[firstChannel &+ j], pb[firstChannel &+ j], base &+ j &* hw)
                                        for i in row..<(row &+ hw) {
                                            let v = (px[i] - mean) * inverse
                                            pn[i] = v
                                            po[i] = v * scale + shift
                                        }
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
        groupNormBackward(y.grad!, x: x, groups: groups, gamma: gamma, beta: beta, normalized: normalized, sigma: sigma)
    }
}

/// dgamma[c] = sum g * n, dbeta[c] = sum g; with gy = g * gamma, dx = (gy - mean(gy) - n * mean(gy * n)) / sigma per group.
private func groupNormBackward(_ grad: [Float], x: Tensor, groups: Int, gamma: Tensor, beta: Tensor, normalized: [Float], sigma: [Float]) {
    let (n, c, h, w) = x.nchw
    let hw = h * w, perGroup = c / groups, chunk = perGroup * hw, chunks = n * groups
    let workers = Threads.workers(for: chunks)
    // Each worker sums dgamma, dbeta over its groups; the partial sums are added in worker order.
    var partials = [Float](repeating: 0, count: workers * 2 * c)
    let wantDX = x.requiresGrad
    var dx = [Float](unsafeUninitializedCapacity: wantDX ? x.count : 0) { _, k in k = wantDX ? x.count : 0 }
    grad.withUnsafeBufferPointer { pgrad in
        normalized.withUnsafeBufferPointer { pn in
            gamma.data.withUnsafeBufferPointer { pgamma in
                partials.withUnsafeMutableBufferPointer { pp in
                    dx.withUnsafeMutableBufferPointer { pdx in
                        nonisolated(unsafe) let (g, nrm, gm, pp, pdx) = (
                            pgrad.baseAddress!, pn.baseAddress!, pgamma.baseAddress!,
                            pp.baseAddress!, pdx.baseAddress
                        )
                        Threads.forEachWorker(chunks) { worker, range in
                            let dGamma = pp + worker &* 2 &* c, dBeta = dGamma + c
                            for k in range {
                                let base = k &* chunk, firstChannel = (k % groups) &* perGroup
                                var gyMean: Float = 0, gyNMean: Float = 0
                                for j in 0..<perGroup {
                                    let ch = firstChannel &+ j, row = base &+ j &* hw, scale = gm[ch]
                                    var sg: Float = 0, sgn: Float = 0
                                    for i in row..<(row &+ hw) { sg += g[i]; sgn += g[i] * nrm[i] }
                                    dGamma[ch] += sgn
                                    dBeta[ch] += sg
                                    gyMean += scale * sg; gyNMean += scale * sgn
                                }
                                guard let pdx else { continue }
                                gyMean /= Float(chunk); gyNMean /= Float(chunk)
                                let inverse = 1 / sigma[k]
                                for j in 0..<perGroup {
                                    let row = base &+ j &* hw, scale = gm[firstChannel &+ j]
                                    for i in row..<(row &+ hw) { pdx[i] = inverse * (g[i] * scale - gyMean - nrm[i] * gyNMean) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    if wantDX { x.accumulateGrad(taking: dx) }
    for (t, offset) in [(gamma, 0), (beta, c)] where t.requiresGrad {
        t.accumulateGrad { gt in for k in 0..<workers { for i in 0..<c { gt[i] += partials[k &* 2 &* c &+ offset &+ i] } } }
    }
}
