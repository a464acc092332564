import COpenBLAS

/// Row-major C = alpha * op(A) op(B) + beta * C through OpenBLAS.
@inline(__always)
func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
           _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
           alpha: Float = 1, beta: Float = 0) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        for i in 0..<(m * n) { c[i] = beta == 0 ? 0 : beta * c[i] }
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(transA ? m : k), b, Int32(transB ? k : n), beta, c, Int32(n))
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
                        sgemm(transA: transposeA, transB: transposeB, m: gm, n: n, k: k,
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
                            a.accumulateGradBLAS { ga, beta in
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
                            b.accumulateGradBLAS { gb, beta in
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
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    let y = Tensor.matmul(x, weight, transposeB: true)
    return bias.map { y + $0 } ?? y
}
