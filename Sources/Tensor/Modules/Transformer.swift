/// Multi-head attention (Vaswani et al. 2017) over `[batch, time, dModel]` tensors.
public final class MultiHeadAttention: Module {
    public let qProj, kProj, vProj, outProj: Linear
    public let heads: Int
    let dropout: Dropout

    public init(dModel: Int, heads: Int, dropout p: Float = 0.1, rng: RandomGenerator) {
        precondition(dModel % heads == 0, "dModel \(dModel) is not divisible by \(heads) heads")
        qProj = Linear(dModel, dModel, rng: rng); kProj = Linear(dModel, dModel, rng: rng)
        vProj = Linear(dModel, dModel, rng: rng); outProj = Linear(dModel, dModel, rng: rng)
        for l in [qProj, kProj, vProj, outProj] { Init.xavierUniform(l.weight, rng: rng); Init.constant(l.bias!, 0) }
        self.heads = heads
        dropout = Dropout(p, rng: rng)
    }

    /// `mask` is additive and broadcasts to `[batch, heads, Tq, Tk]`.
    public func forward(query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil, causal: Bool = false) -> Tensor {
        attend(qProj(query), kProj(key), vProj(value), mask: mask, causal: causal)
    }

    /// Causal self-attention over sequences that continue shared prefixes: `prefix` `[P, Tp, d]`
    /// attends to itself, and row `b` of `rows` `[B, Tr, d]` to all of `prefix[prefixOf[b]]`, then
    /// causally to its own tokens. Each prefix's keys and values are projected once however many
    /// rows continue it. `mask` (additive, `[B, 1, 1, Tp + Tr]` or broadcastable) is for the rows.
    public func forward(prefix: Tensor, rows: Tensor, prefixOf: [Int], mask: Tensor? = nil) -> (prefix: Tensor, rows: Tensor) {
        let (prefixKeys, prefixValues) = (kProj(prefix), vProj(prefix))
        let keys = Tensor.concat([prefixKeys.indexSelect(axis: 0, prefixOf), kProj(rows)], axis: 1)
        let values = Tensor.concat([prefixValues.indexSelect(axis: 0, prefixOf), vProj(rows)], axis: 1)
        return (
            attend(qProj(prefix), prefixKeys, prefixValues, mask: nil, causal: true),
            attend(qProj(rows), keys, values, mask: mask, causal: true)
        )
    }

    /// Attention of projected queries over projected keys and values, heads merged and projected out.
    /// A mask that takes a gradient (a learned bias) goes through the unfused ops.
    private func attend(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?, causal: Bool) -> Tensor {
        guard let mask, mask.requiresGrad else {
            return dropout(outProj(multiHeadAttention(q, k, v, heads: heads, mask: mask, causal: causal)))
        }
        let (b, tq, d) = (q.shape[0], q.shape[1], q.shape[2])
        func split(_ x: Tensor) -> Tensor { x.reshaped([b, x.shape[1], heads, d / heads]).permuted([0, 2, 1, 3]) }
        let attended = scaledDotProductAttention(split(q), split(k), split(v), mask: mask, causal: causal)
        return dropout(outProj(attended.permuted([0, 2, 1, 3]).reshaped([b, tq, d])))
    }
}

/// Position-wise feed-forward: Linear -> activation -> dropout -> Linear.
public final class FeedForward: Module, UnaryLayer {
    public let fc1, fc2: Linear
    let dropout: Dropout
    let gelu: Bool

    public init(dModel: Int, dFF: Int, dropout p: Float = 0.1, gelu: Bool = false, rng: RandomGenerator) {
        fc1 = Linear(dModel, dFF, rng: rng); fc2 = Linear(dFF, dModel, rng: rng)
        dropout = Dropout(p, rng: rng)
        self.gelu = gelu
    }

    public func forward(_ x: Tensor) -> Tensor {
        let h = fc1(x)
        return fc2(dropout(gelu ? h.gelu() : h.relu()))
    }
}

/// Pre-norm encoder layer: x + SelfAttn(LN(x)), then x + FFN(LN(x)).
public final class TransformerEncoderLayer: Module {
    public let selfAttn: MultiHeadAttention
    public let feedForward: FeedForward
    public let norm1, norm2: LayerNorm
    let dropout: Dropout

    public init(
        dModel: Int, heads: Int, dFF: Int, dropout p: Float = 0.1,
        normVariant: NormVariant = .standard, rng: RandomGenerator
    ) {
        selfAttn = MultiHeadAttention(dModel: dModel, heads: heads, dropout: 0, rng: rng)
        feedForward = FeedForward(dModel: dModel, dFF: dFF, dropout: p, rng: rng)
        norm1 = LayerNorm(dModel, eps: 1e-6, variant: normVariant)
        norm2 = LayerNorm(dModel, eps: 1e-6, variant: normVariant)
        dropout = Dropout(p, rng: rng)
    }

    public func forward(_ x: Tensor, mask: Tensor? = nil) -> Tensor {
        let n1 = norm1(x)
        let h = x + dropout(selfAttn.forward(query: n1, key: n1, value: n1, mask: mask))
        return h + dropout(feedForward(norm2(h)))
    }

    /// The layer, causal, over rows that continue shared prefixes (see
    /// `MultiHeadAttention.forward(prefix:rows:prefixOf:mask:)`): the same result as running each
    /// row's full sequence `[prefix[prefixOf[b]]; rows[b]]`, with each prefix computed once.
    public func forward(prefix: Tensor, rows: Tensor, prefixOf: [Int], mask: Tensor? = nil) -> (prefix: Tensor, rows: Tensor) {
        let attended = selfAttn.forward(prefix: norm1(prefix), rows: norm1(rows), prefixOf: prefixOf, mask: mask)
        let (p, r) = (prefix + dropout(attended.prefix), rows + dropout(attended.rows))
        return (p + dropout(feedForward(norm2(p))), r + dropout(feedForward(norm2(r))))
    }
}

/// Pre-norm decoder layer: causal self-attention, cross-attention to `memory`, feed-forward.
public final class TransformerDecoderLayer: Module {
    public let selfAttn, crossAttn: MultiHeadAttention
    public let feedForward: FeedForward
    public let norm1, norm2, norm3: LayerNorm
    let dropout: Dropout

    public init(
        dModel: Int, heads: Int, dFF: Int, dropout p: Float = 0.1,
        normVariant: NormVariant = .standard, rng: RandomGenerator
    ) {
        selfAttn = MultiHeadAttention(dModel: dModel, heads: heads, dropout: 0, rng: rng)
        crossAttn = MultiHeadAttention(dModel: dModel, heads: heads, dropout: 0, rng: rng)
        feedForward = FeedForward(dModel: dModel, dFF: dFF, dropout: p, rng: rng)
        norm1 = LayerNorm(dModel, eps: 1e-6, variant: normVariant)
        norm2 = LayerNorm(dModel, eps: 1e-6, variant: normVariant)
        norm3 = LayerNorm(dModel, eps: 1e-6, variant: normVariant)
        dropout = Dropout(p, rng: rng)
    }

    /// `selfMask` adds to the causal mask (e.g. padding); `memoryMask` masks memory positions.
    public func forward(_ x: Tensor, memory: Tensor, selfMask: Tensor? = nil, memoryMask: Tensor? = nil) -> Tensor {
        let n1 = norm1(x)
        var h = x + dropout(selfAttn.forward(query: n1, key: n1, value: n1, mask: selfMask, causal: true))
        let n2 = norm2(h)
        h = h + dropout(crossAttn.forward(query: n2, key: memory, value: memory, mask: memoryMask))
        return h + dropout(feedForward(norm3(h)))
    }
}
