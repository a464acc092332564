import Foundation
import Tensor

/// Keys and values of the tokens decoded so far, per layer, `[N, heads, t, d/heads]`, so a step
/// attends over the prefix without recomputing it (R2Gen recomputes the whole prefix each step).
struct AttentionCache {
    var keys, values: Tensor?
}

/// Splits `[N, T, d]` into heads `[N, heads, T, d/heads]`.
func splitHeads(_ x: Tensor, heads: Int) -> Tensor {
    let (n, t, d) = (x.shape[0], x.shape[1], x.shape[2])
    return x.reshaped([n, t, heads, d / heads]).permuted([0, 2, 1, 3])
}

func mergeHeads(_ x: Tensor) -> Tensor {
    let (n, h, t, dk) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    return x.permuted([0, 2, 1, 3]).reshaped([n, t, h * dk])
}

/// A decoder layer whose three sublayers (self-attention, attention to the encoded image,
/// feed-forward) each normalise their input with MCLN: `x + dropout(sublayer(MCLN(x, memory)))`.
final class MemoryDrivenDecoderLayer: Module {
    let selfAttn, crossAttn: MultiHeadAttention
    let feedForward: FeedForward
    let norm1, norm2, norm3: ConditionalLayerNorm
    let dropout: Dropout

    init(_ c: ReportGenConfig, rng: RandomGenerator) {
        selfAttn = MultiHeadAttention(dModel: c.dModel, heads: c.heads, dropout: 0, rng: rng)
        crossAttn = MultiHeadAttention(dModel: c.dModel, heads: c.heads, dropout: 0, rng: rng)
        feedForward = FeedForward(dModel: c.dModel, dFF: c.dFF, dropout: c.dropout, rng: rng)
        let width = c.memorySlots * c.dModel
        norm1 = ConditionalLayerNorm(dModel: c.dModel, memoryWidth: width, rng: rng)
        norm2 = ConditionalLayerNorm(dModel: c.dModel, memoryWidth: width, rng: rng)
        norm3 = ConditionalLayerNorm(dModel: c.dModel, memoryWidth: width, rng: rng)
        dropout = Dropout(c.dropout, rng: rng)
    }

    /// Teacher forcing over the whole sequence: `x [B, T, d]`, `memory [B, T, slots*d]`.
    func forward(_ x: Tensor, encoded: Tensor, memory: Tensor, encodedMask: Tensor?) -> Tensor {
        let n1 = norm1(x, memory: memory)
        var h = x + dropout(selfAttn.forward(query: n1, key: n1, value: n1, causal: true))
        let n2 = norm2(h, memory: memory)
        h = h + dropout(crossAttn.forward(query: n2, key: encoded, value: encoded, mask: encodedMask))
        return h + dropout(feedForward(norm3(h, memory: memory)))
    }

    /// The encoded image's keys and values for `crossAttn`, computed once per generation.
    func crossKeysValues(_ encoded: Tensor) -> (Tensor, Tensor) {
        (splitHeads(crossAttn.kProj(encoded), heads: crossAttn.heads), splitHeads(crossAttn.vProj(encoded), heads: crossAttn.heads))
    }

    /// One new token `x [N, 1, d]` given the cached prefix.
    func step(_ x: Tensor, memory: Tensor, cache: inout AttentionCache, cross: (Tensor, Tensor), crossMask: Tensor?) -> Tensor {
        let n1 = norm1(x, memory: memory)
        let (k, v) = (splitHeads(selfAttn.kProj(n1), heads: selfAttn.heads), splitHeads(selfAttn.vProj(n1), heads: selfAttn.heads))
        cache.keys = cache.keys.map { Tensor.concat([$0, k], axis: 2) } ?? k
        cache.values = cache.values.map { Tensor.concat([$0, v], axis: 2) } ?? v
        let q = splitHeads(selfAttn.qProj(n1), heads: selfAttn.heads)
        var h = x + selfAttn.outProj(mergeHeads(scaledDotProductAttention(q, cache.keys!, cache.values!)))
        let q2 = splitHeads(crossAttn.qProj(norm2(h, memory: memory)), heads: crossAttn.heads)
        h = h + crossAttn.outProj(mergeHeads(scaledDotProductAttention(q2, cross.0, cross.1, mask: crossMask)))
        return h + feedForward(norm3(h, memory: memory))
    }
}

/// Sinusoidal position encodings (Vaswani et al. 2017) `[length, d]`.
func sinusoidalPositions(_ length: Int, _ d: Int) -> Tensor {
    var data = [Float](repeating: 0, count: length * d)
    for p in 0..<length {
        for i in stride(from: 0, to: d, by: 2) {
            let angle = Double(p) / Foundation.pow(10000, Double(i) / Double(d))
            data[p * d + i] = Float(Foundation.sin(angle))
            if i + 1 < d { data[p * d + i + 1] = Float(Foundation.cos(angle)) }
        }
    }
    return Tensor(shape: [length, d], data: data)
}
