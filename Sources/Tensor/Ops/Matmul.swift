import COpenBLAS

/// Row-major C = alpha * op(A) op(B) + beta * C through OpenBLAS.
@inline(__always)
func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    alpha: Float = 1, beta: Float = 0, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
) {
    let lda = lda ?? (transA ? m : k), ldb = ldb ?? (transB ? k : n), ldc = ldc ?? n
    guard m > 0, n > 0 else { return }
    if m * n * k <= smallGemmLimit {
        smallGemm(transA: transA, transB: transB, m: m, n: n, k: k, a, b, c, alpha: alpha, beta: beta, lda: lda, ldb: ldb, ldc: ldc)
        return
    }
    BLASKernels.ensureSelected()
    // Large products are cut into panels along the larger of M and N, one per core, each a
    // single-threaded GEMM; every output element is still computed by one call.
    let parts = m * n * k >= parallelGemmLimit ? min(Threads.available, max(m, n) / 16) : 1
    if parts <= 1 {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        return
    }
    nonisolated(unsafe) let (pa, pb, pc) = (a, b, c)
    Threads.forEachWorker(parts) { part, _ in
        if m >= n {
            let (r0, r1) = (m * part / parts, m * (part + 1) / parts)
            cblas_sgemm(
                CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(r1 - r0), Int32(n), Int32(k), alpha, pa + (transA ? r0 : r0 * lda), Int32(lda), pb, Int32(ldb),
                beta, pc + r0 * ldc, Int32(ldc))
        } else {
            let (c0, c1) = (n * part / parts, n * (part + 1) / parts)
            cblas_sgemm(
                CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(c1 - c0), Int32(k), alpha, pa, Int32(lda), pb + (transB ? c0 * ldb : c0), Int32(ldb),
                beta, pc + c0, Int32(ldc))
        }
    }
}

/// From this many multiply-adds a GEMM is worth splitting over the cores.
let parallelGemmLimit = 1 << 20

/// Below this many multiply-adds a plain loop beats OpenBLAS's call and threading overhead
/// (attention over a few tokens per head issues thousands of such products per step).
let smallGemmLimit = 16 * 1024

@inline(__always)
private func smallGemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    alpha: Float, beta: Float, lda: Int, ldb: Int, ldc: Int
) {
    let (ai, ap) = transA ? (1, lda) : (lda, 1)
    let (bp, bj) = transB ? (1, ldb) : (ldb, 1)
    for i in 0..<m {
        for j in 0..<n {
            var acc: Float = 0
            for p in 0..<k { acc += a[i &* ai &+ p &* ap] * b[p &* bp &+ j &* bj] }
            c[i &* ldc &+ j] = alpha * acc + (beta == 0 ? 0 : beta * c[i &* ldc &+ j])
        }
    }
}

extension Tensor {
    /// Matrix product over the last two dimensions, with optional transposes.
    ///
    /// `a` is `[..., M, K]` (`[..., K, M]` if `transposeA`), `b` is `[..., K, N]` (`[..., N, K]` if
    /// `transposeB`). Leading (batch) dimensions must match, or `b` may be a plain matrix shared by
    /// every batch entry (a linear layer).
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs matrices, got \(a.shape) and \(b.shape)")
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        precondition(batchB.isEmpty || batchA == batchB, "matmul batch dimensions differ: \(a.shape) vs \(b.shape)")
        let (ra, ca) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (rb, cb) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let m = transposeA ? ca : ra, k = transposeA ? ra : ca
        let kb = transposeB ? cb : rb, n = transposeB ? rb : cb
        precondition(k == kb, "matmul inner dimensions differ: \(a.shape) x \(b.shape) (transposes \(transposeA), \(transposeB))")
        let batch = batchA.elementCount
        // A shared weight with an untransposed `a` folds the batch into M: one large GEMM.
        let folded = batchB.isEmpty && !transposeA
        let (gm, gBatch) = folded ? (m * batch, 1) : (m, batch)
        let strideA = ra * ca, strideB = batchB.isEmpty ? 0 : rb * cb, strideC = gm * n
        var out = [Float](unsafeUninitializedCapacity: batch * m * n) { _, c in c = batch * m * n }
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    for i in 0..<gBatch {
                        sgemm(
                            transA: transposeA, transB: transposeB, m: gm, n: n, k: k,
                            pa.baseAddress! + i * strideA, pb.baseAddress! + i * strideB, pc.baseAddress! + i * strideC)
                    }
                }
            }
        }
        return result(batchA + [m, n], out, [a, b]) { y in
            y.grad!.withUnsafeBufferPointer { g in
                a.data.withUnsafeBufferPointer { pa in
                    b.data.withUnsafeBufferPointer { pb in
                        let pg = g.baseAddress!, pa = pa.baseAddress!, pb = pb.baseAddress!
                        if a.requiresGrad {
                            a.accumulateGradBLAS(overwrites: gBatch > 0) { ga, beta in
                                for i in 0..<gBatch {
                                    let gi = pg + i * strideC, bi = pb + i * strideB, ai = ga + i * strideA
                                    // dA = dC op(B)^T, laid out as A is (transposed when A was).
                                    if transposeA {
                                        sgemm(transA: transposeB, transB: true, m: k, n: gm, k: n, bi, gi, ai, beta: beta)
                                    } else {
                                        sgemm(transA: false, transB: !transposeB, m: gm, n: k, k: n, gi, bi, ai, beta: beta)
                                    }
                                }
                            }
                        }
                        if b.requiresGrad {
                            b.accumulateGradBLAS(overwrites: gBatch > 0) { gb, beta in
                                for i in 0..<gBatch {
                                    let gi = pg + i * strideC, ai = pa + i * strideA, bi = gb + i * strideB
                                    // dB = op(A)^T dC, laid out as B is; a shared B accumulates over the batch.
                                    let bBeta: Float = strideB == 0 && i > 0 ? 1 : beta
                                    if transposeB {
                                        sgemm(transA: true, transB: transposeA, m: n, n: k, k: gm, gi, ai, bi, beta: bBeta)
                                    } else {
                                        sgemm(transA: !transposeA, transB: false, m: k, n: n, k: gm, ai, gi, bi, beta: bBeta)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `self @ other` without transposes.
    public func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }
}

/// y = x W^T + b, with `x` of shape `[..., in]`, `weight` `[out, in]`, `bias` `[out]`.
/// Fused: the bias seeds the output before one GEMM, and its gradient is a column sum.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    guard let bias else { return Tensor.matmul(x, weight, transposeB: true) }
    let (outF, inF) = (weight.shape[0], weight.shape[1])
    precondition(
        weight.rank == 2 && x.shape.last == inF && bias.shape == [outF],
        "linear: input \(x.shape), weight \(weight.shape), bias \(bias.shape) do not fit")
    let rows = x.count / inF
    var out = [Float](unsafeUninitializedCapacity: rows * outF) { _, c in c = rows * outF }
    x.data.withUnsafeBufferPointer { px in
        weight.data.withUnsafeBufferPointer { pw in
            bias.data.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    for r in 0..<rows { (po.baseAddress! + r * outF).update(from: pb.baseAddress!, count: outF) }
                    sgemm(transA: false, transB: true, m: rows, n: outF, k: inF, px.baseAddress!, pw.baseAddress!, po.baseAddress!, beta: 1)
                }
            }
        }
    }
    return Tensor.result(Array(x.shape.dropLast()) + [outF], out, [x, weight, bias]) { y in
        y.grad!.withUnsafeBufferPointer { g in
            let pg = g.baseAddress!
            if x.requiresGrad {
                weight.data.withUnsafeBufferPointer { pw in
                    x.accumulateGradBLAS(overwrites: true) { gx, beta in
                        sgemm(transA: false, transB: false, m: rows, n: inF, k: outF, pg, pw.baseAddress!, gx, beta: beta)
                    }
                }
            }
            if weight.requiresGrad {
                x.data.withUnsafeBufferPointer { px in
                    weight.accumulateGradBLAS(overwrites: true) { gw, beta in
                        sgemm(transA: true, transB: false, m: outF, n: inF, k: rows, pg, px.baseAddress!, gw, beta: beta)
                    }
                }
            }
            if bias.requiresGrad {
                bias.accumulateGrad { gb in
                    for r in 0..<rows { let row = pg + r * outF; for j in 0..<outF { gb[j] += row[j] } }
                }
            }
        }
    }
}
