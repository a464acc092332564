/// softmax(q k^T / sqrt(d) + mask) v over `[..., T, d]` tensors (batch and heads leading).
///
/// `mask` is additive (0 to keep, a large negative or -inf to drop) and broadcasts to the scores
/// `[..., Tq, Tk]`; `causal` hides later keys from each query.
public func scaledDotProductAttention(
    _ q: Tensor, _ k: Tensor, _ v: Tensor,
    mask: Tensor? = nil, causal: Bool = false
) -> Tensor {
    let d = q.shape.last!
    var scores = Tensor.matmul(q, k, transposeB: true) * (1 / Float(d).squareRoot())
    if let mask { scores = scores + mask }
    if causal {
        let (tq, tk) = (q.shape[q.rank - 2], k.shape[k.rank - 2])
        // Query i sits at position i + (tk - tq) so that a cached prefix of keys stays visible.
        let future = (0..<(tq * tk)).map { Float(($0 % tk) > ($0 / tk) + (tk - tq) ? 1 : 0) }
        scores = scores.maskedFill(Tensor(future, shape: [tq, tk]), -.infinity)
    }
    return Tensor.matmul(scores.softmax(axis: -1), v)
}

extension Tensor {
    /// Inverted dropout: zeroes each value with probability `p` and scales the rest by 1/(1-p).
    public func dropout(_ p: Float, training: Bool, rng: RandomGenerator) -> Tensor {
        guard training, p > 0 else { return self }
        precondition(p < 1, "dropout probability must be below 1")
        let scale = 1 / (1 - p), n = count
        let keep = [Float](unsafeUninitializedCapacity: n) { buffer, k in
            rng.fillUniform(buffer.baseAddress!, count: n)
            for i in 0..<n { buffer[i] = buffer[i] < p ? 0 : scale }
            k = n
        }
        var out = [Float](unsafeUninitializedCapacity: n) { _, k in k = n }
        data.withUnsafeBufferPointer { px in
            keep.withUnsafeBufferPointer { pk in
                out.withUnsafeMutableBufferPointer { po in
                    Threads.forEachChunk(n) { r in for i in r { po[i] = px[i] * pk[i] } }
                }
            }
        }
        return Tensor.result(shape, out, [self]) { y in
            y.grad!.withUnsafeBufferPointer { g in
                keep.withUnsafeBufferPointer { pk in
                    y.inputs[0].accumulateGrad { gx in Threads.forEachChunk(n) { r in for i in r { gx[i] += g[i] * pk[i] } } }
                }
            }
        }
    }
}
