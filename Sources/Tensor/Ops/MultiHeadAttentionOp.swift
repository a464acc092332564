/// Multi-head scaled dot-product attention as one op: for every batch entry and head h,
/// softmax(Q_h K_h^T / sqrt(d_h) + mask) V_h, on projections `q` `[B, Tq, d]` and `k`, `v` `[B, Tk, d]`.
///
/// Head h is column block h of d, read in place through GEMM leading dimensions, so no head is split,
/// permuted or merged by a copy; the result is `[B, Tq, d]` with the heads side by side. The
/// probabilities are kept for the backward pass. `mask` is additive, broadcasts to `[B, heads, Tq, Tk]`
/// and takes no gradient; `causal` hides key j from query i when j > i + (Tk - Tq) (a cached prefix
/// of keys stays visible).
public func multiHeadAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, mask: Tensor? = nil, causal: Bool = false) -> Tensor {
    precondition(
        q.rank == 3 && k.rank == 3 && k.shape == v.shape && q.shape[0] == k.shape[0] && q.shape[2] == k.shape[2],
        "attention needs q [B, Tq, d] and k, v [B, Tk, d], got \(q.shape), \(k.shape), \(v.shape)")
    let (b, tq, d, tk) = (q.shape[0], q.shape[1], q.shape[2], k.shape[1])
    precondition(heads >= 1 && d % heads == 0, "\(heads) heads do not divide width \(d)")
    precondition(mask.map { !$0.requiresGrad } ?? true, "the attention mask takes no gradient")
    let dh = d / heads, scale = 1 / Float(dh).squareRoot()
    let masking = mask.map { MaskLayout($0.shape, batch: b, heads: heads, tq: tq, tk: tk) }
    let maskData = mask?.data ?? []
    var probs = [Float](unsafeUninitializedCapacity: b * heads * tq * tk) { _, n in n = b * heads * tq * tk }
    var out = [Float](unsafeUninitializedCapacity: b * tq * d) { _, n in n = b * tq * d }
    q.data.withUnsafeBufferPointer { pq in
        k.data.withUnsafeBufferPointer { pk in
            v.data.withUnsafeBufferPointer { pv in
                maskData.withUnsafeBufferPointer { pm in
                    probs.withUnsafeMutableBufferPointer { pp in
                        out.withUnsafeMutableBufferPointer { po in
                            nonisolated(unsafe) let (pq, pk, pv, pm, pp, po) = (
                                pq.baseAddress!, pk.baseAddress!, pv.baseAddress!,
                                pm.baseAddress, pp.baseAddress!, po.baseAddress!
                            )
                            Threads.forEachWorker(b * heads) { _, items in
                                for item in items {
                                    let (bi, h) = (item / heads, item % heads)
                                    let p = pp + item * tq * tk
                                    sgemm(
                                        transA: false, transB: true, m: tq, n: tk, k: dh, pq + bi * tq * d + h * dh, pk + bi * tk * d + h * dh, p,
                                        alpha: scale, beta: 0, lda: d, ldb: d, ldc: tk)
                                    for i in 0..<tq {
                                        let row = p + i * tk
                                        if let masking, let pm { masking.add(pm, to: row, batch: bi, head: h, query: i) }
                                        let visible = causal ? Swift.max(0, Swift.min(tk, i + (tk - tq) + 1)) : tk
                                        softmaxRow(row, visible: visible, count: tk)
                                    }
                                    sgemm(
                                        transA: false, transB: false, m: tq, n: dh, k: tk, p, pv + bi * tk * d + h * dh, po + bi * tq * d + h * dh,
                                        lda: tk, ldb: d, ldc: d)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return Tensor.result([b, tq, d], out, [q, k, v]) { y in
        attentionBackward(y.grad!, q: q, k: k, v: v, probs: probs, heads: heads, scale: scale)
    }
}

/// dV_h = P^T dO_h, dP = dO_h V_h^T, dS = P * (dP - rowsum(dP * P)) * scale, dQ_h = dS K_h, dK_h = dS^T Q_h.
private func attentionBackward(_ dOut: [Float], q: Tensor, k: Tensor, v: Tensor, probs: [Float], heads: Int, scale: Float) {
    let (b, tq, d, tk) = (q.shape[0], q.shape[1], q.shape[2], k.shape[1])
    let dh = d / heads
    // Every (batch, head) writes its own rows and column block: each gradient element is written once.
    var dq = [Float](unsafeUninitializedCapacity: q.count) { _, n in n = q.count }
    var dk = [Float](unsafeUninitializedCapacity: k.count) { _, n in n = k.count }
    var dv = [Float](unsafeUninitializedCapacity: v.count) { _, n in n = v.count }
    let workers = Threads.workers(for: b * heads)
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: workers * tq * tk)
    defer { scratch.deallocate() }
    dOut.withUnsafeBufferPointer { pg in
        q.data.withUnsafeBufferPointer { pq in
            k.data.withUnsafeBufferPointer { pk in
                v.data.withUnsafeBufferPointer { pv in
                    probs.withUnsafeBufferPointer { pp in
                        dq.withUnsafeMutableBufferPointer { gq in
                            dk.withUnsafeMutableBufferPointer { gk in
                                dv.withUnsafeMutableBufferPointer { gv in
                                    nonisolated(unsafe) let (pg, pq, pk, pv, pp) = (
                                        pg.baseAddress!, pq.baseAddress!, pk.baseAddress!,
                                        pv.baseAddress!, pp.baseAddress!
                                    )
                                    nonisolated(unsafe) let (gq, gk, gv) = (gq.baseAddress!, gk.baseAddress!, gv.baseAddress!)
                                    Threads.forEachWorker(b * heads) { worker, items in
                                        let ds = scratch + worker * tq * tk
                                        for item in items {
                                            let (bi, h) = (item / heads, item % heads)
                                            let p = pp + item * tq * tk
                                            let (qo, ko, oo) = (bi * tq * d + h * dh, bi * tk * d + h * dh, bi * tq * d + h * dh)
                                            sgemm(transA: true, transB: false, m: tk, n: dh, k: tq, p, pg + oo, gv + ko, lda: tk, ldb: d, ldc: d)
                                            sgemm(transA: false, transB: true, m: tq, n: tk, k: dh, pg + oo, pv + ko, ds, lda: d, ldb: d, ldc: tk)
                                            for i in 0..<tq {
                                                let (prow, drow) = (p + i * tk, ds + i * tk)
                                                var dot: Float = 0
                                                for j in 0..<tk { dot += prow[j] * drow[j] }
                                                for j in 0..<tk { drow[j] = prow[j] * (drow[j] - dot) * scale }
                                            }
                                            sgemm(transA: false, transB: false, m: tq, n: dh, k: tk, ds, pk + ko, gq + qo, lda: tk, ldb: d, ldc: d)
                                            sgemm(transA: true, transB: false, m: tk, n: dh, k: tq, ds, pq + qo, gk + ko, lda: tk, ldb: d, ldc: d)
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
    for (t, g) in [(q, dq), (k, dk), (v, dv)] where t.requiresGrad { t.accumulateGrad(taking: g) }
}

/// Where an additive mask broadcast to `[B, heads, Tq, Tk]` keeps its values.
private struct MaskLayout {
    let strides: [Int]  // per target axis; 0 where the mask broadcasts
    let tk: Int

    init(_ shape: [Int], batch: Int, heads: Int, tq: Int, tk: Int) {
        let target = [batch, heads, tq, tk]
        precondition(shape.count <= 4, "attention mask \(shape) has more than 4 dimensions")
        let padded = Array(repeating: 1, count: 4 - shape.count) + shape
        var strides = [Int](repeating: 0, count: 4), step = 1
        for axis in (0..<4).reversed() {
            precondition(padded[axis] == 1 || padded[axis] == target[axis], "attention mask \(shape) does not broadcast to \(target)")
            strides[axis] = padded[axis] == 1 ? 0 : step
            step *= padded[axis]
        }
        self.strides = strides
        self.tk = tk
    }

    /// Adds the mask's row for (batch, head, query) to a row of scores.
    @inline(__always)
    func add(_ mask: UnsafePointer<Float>, to row: UnsafeMutablePointer<Float>, batch: Int, head: Int, query: Int) {
        let offset: Int = batch &* strides[0] &+ head &* strides[1] &+ query &* strides[2]
        let base = mask + offset
        if strides[3] == 0 {
            let value = base[0]
            for j in 0..<tk { row[j] += value }
        } else {
            for j in 0..<tk { row[j] += base[j] }
        }
    }
}

/// Softmax in place over `row[0..<count]`, with keys from `visible` on hidden (probability 0).
/// A row whose visible scores are all -inf (fully masked) gives zeros, as `Tensor.softmax` does.
@inline(__always)
func softmaxRow(_ row: UnsafeMutablePointer<Float>, visible: Int, count: Int) {
    var m = -Float.infinity
    for j in 0..<visible { m = Swift.max(m, row[j]) }
    guard m > -.infinity else { row.update(repeating: 0, count: count); return }
    var sums = SIMD8<Float>()
    var j = 0
    let raw = UnsafeMutableRawPointer(row)
    while j &+ 8 <= visible {
        let e = fastExp(raw.loadUnaligned(fromByteOffset: j &* 4, as: SIMD8<Float>.self) - m)
        raw.storeBytes(of: e, toByteOffset: j &* 4, as: SIMD8<Float>.self)
        sums += e
        j &+= 8
    }
    if j < visible {
        // The tail as one more vector, padded with -inf (e^-inf = 0).
        var tail = SIMD8<Float>(repeating: -.infinity)
        for t in 0..<(visible &- j) { tail[t] = row[j &+ t] - m }
        let e = fastExp(tail)
        for t in 0..<(visible &- j) { row[j &+ t] = e[t] }
        sums += e
    }
    let inverse = 1 / sums.sum()
    for j in 0..<visible { row[j] *= inverse }
    for j in visible..<count { row[j] = 0 }
}

/// e^x to about 2 ulp (Cephes' expf: x = n ln2 + r, a degree-6 polynomial in r, then 2^n from the
/// exponent bits); exactly 0 below -87.3, where float32 e^x underflows anyway; NaN stays NaN. Rounding to n and the
/// integer conversion use the 1.5 * 2^23 trick, which keeps every step in vector registers. Eight
/// lanes: every live value fits the registers of the baseline x86-64 target the engine compiles for.
@inline(__always)
func fastExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let c = x.clamped(lowerBound: SIMD8(repeating: -87.3), upperBound: SIMD8(repeating: 88.3))
    let shifted = c * 1.44269504 + 12582912  // n + 1.5 * 2^23: n rounded to nearest in the low mantissa bits
    let n = shifted - 12582912
    let r = c - n * 0.693359375 + n * 2.12194440e-4
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: SIMD8<Float>.self)
    // The clamp turned NaN into a number: give NaN back, as the library's exp does.
    return (p * scale).replacing(with: 0, where: x .< -87.3).replacing(with: x, where: x .!= x)
}
