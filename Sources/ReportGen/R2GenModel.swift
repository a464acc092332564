import Foundation
import Metrics
import Tensor

/// R2Gen (Chen et al., EMNLP 2020): a visual extractor, a transformer encoder over the views'
/// patch features, and a decoder whose layer norms are driven by a relational memory.
public final class R2GenModel: Module {
    public let config: ReportGenConfig
    let visualExtractor: VisualExtractor
    let patchEmbedding: Linear
    let encoderLayers: [TransformerEncoderLayer]
    let encoderNorm: LayerNorm
    let tokenEmbedding: Embedding
    let relationalMemory: RelationalMemory
    let decoderLayers: [MemoryDrivenDecoderLayer]
    let decoderNorm: ConditionalLayerNorm
    let logit: Linear
    let labelHead: Linear
    let dropout: Dropout
    let positions: Tensor

    public init(_ config: ReportGenConfig, vocabularySize: Int, seed: UInt64) {
        let rng = RandomGenerator(seed: seed)
        let d = config.dModel
        self.config = config
        visualExtractor = VisualExtractor(config, rng: rng)
        patchEmbedding = Linear(config.channels.last!, d, rng: rng)
        encoderLayers = (0..<config.layers).map { _ in
            TransformerEncoderLayer(dModel: d, heads: config.heads, dFF: config.dFF, dropout: config.dropout, normVariant: .unbiasedStd, rng: rng)
        }
        encoderNorm = LayerNorm(d, eps: 1e-6, variant: .unbiasedStd)
        tokenEmbedding = Embedding(vocabularySize, d, rng: rng)
        relationalMemory = RelationalMemory(slots: config.memorySlots, dModel: d, heads: config.heads, rng: rng)
        decoderLayers = (0..<config.layers).map { _ in MemoryDrivenDecoderLayer(config, rng: rng) }
        decoderNorm = ConditionalLayerNorm(dModel: d, memoryWidth: config.memorySlots * d, rng: rng)
        logit = Linear(d, vocabularySize, rng: rng)
        labelHead = Linear(config.channels.last!, chexpertObservations.count, rng: rng)
        dropout = Dropout(config.dropout, rng: rng)
        positions = sinusoidalPositions(config.dataset.maxSequenceLength + 1, d)
    }

    /// `[B * views, 1, S, S]` (a study's views adjacent) -> the views' patch features side by side,
    /// R2Gen's `att_feats` `[B, views * g * g, C]`.
    public func attentionFeatures(_ images: Tensor, views: Int) -> Tensor {
        let patches = VisualExtractor.patches(visualExtractor.featureMap(images))
        let (n, p, c) = (patches.shape[0], patches.shape[1], patches.shape[2])
        return patches.reshaped([n / views, views * p, c])
    }

    /// Logits of the 14 CheXpert labels from the mean patch feature `[B, 14]`. Trained from scratch,
    /// the extractor learns slowly through cross-attention alone (R2Gen starts from ImageNet
    /// weights); predicting the report's labels gives it a direct signal.
    public func labelLogits(_ attentionFeatures: Tensor) -> Tensor {
        labelHead(attentionFeatures.mean(axis: 1))
    }

    /// The encoder's memory of the image `[B, P, d]`.
    public func encode(_ attentionFeatures: Tensor) -> Tensor {
        let x = encoderLayers.reduce(dropout(patchEmbedding(attentionFeatures).relu())) { $1.forward($0) }
        return encoderNorm(x)
    }

    /// Token embeddings x sqrt(d) plus positions from `offset`: `[B, T]` ids -> `[B, T, d]`.
    func embed(_ ids: [Int], batch: Int, length: Int, offset: Int = 0) -> Tensor {
        let e = tokenEmbedding.forward(ids, shape: [batch, length]) * Float(config.dModel).squareRoot()
        return dropout(e + positions.slice(axis: 0, offset..<(offset + length)))
    }

    /// Teacher forcing: log-probabilities `[B, T, vocab]` of each next token after `ids [B, T]`.
    public func forward(encoded: Tensor, ids: [Int], length: Int) -> Tensor {
        let b = encoded.shape[0]
        let x = embed(ids, batch: b, length: length)
        let memory = relationalMemory.forward(x, from: relationalMemory.initialState(batch: b))
        let h = decoderLayers.reduce(x) { $1.forward($0, encoded: encoded, memory: memory) }
        return logit(decoderNorm(h, memory: memory)).logSoftmax(axis: -1)
    }

    /// R2Gen's masked NLL: predict `sequences[t + 1]` from the prefix up to `t`, over real tokens only.
    public func loss(encoded: Tensor, sequences: [[Int]]) -> Tensor {
        let length = sequences.map(\.count).max()! - 1
        var inputs: [Int] = [], targets: [Int] = [], mask: [Float] = []
        for s in sequences {
            for t in 0..<length {
                inputs.append(t < s.count ? s[t] : 0)
                targets.append(t + 1 < s.count ? s[t + 1] : 0)
                mask.append(t + 1 < s.count ? 1 : 0)
            }
        }
        let logProbs = forward(encoded: encoded, ids: inputs, length: length)
        return nllLoss(logProbs.reshaped([sequences.count * length, logProbs.shape[2]]), targets: targets, mask: mask)
    }
}

/// Incremental decoding for beam search: the relational memory advances one step per token and
/// every layer keeps its keys and values.
struct R2GenStepper: StepDecoder {
    let model: R2GenModel
    var memory: Tensor
    var caches: [AttentionCache]
    let cross: [(Tensor, Tensor)]
    var position = 0

    /// `encoded [N, P, d]`: one row per hypothesis.
    init(_ model: R2GenModel, encoded: Tensor) {
        self.model = model
        memory = model.relationalMemory.initialState(batch: encoded.shape[0])
        caches = Array(repeating: AttentionCache(), count: model.decoderLayers.count)
        cross = model.decoderLayers.map { $0.crossKeysValues(encoded) }
    }

    var vocabularySize: Int { model.logit.weight.shape[0] }

    mutating func step(_ tokens: [Int]) -> [Float] {
        let n = tokens.count, d = model.config.dModel
        var x = model.embed(tokens, batch: n, length: 1, offset: min(position, model.positions.shape[0] - 1))
        memory = model.relationalMemory.step(memory, token: x.reshaped([n, d]))
        let m = memory.reshaped([n, 1, model.config.memorySlots * d])
        for (l, layer) in model.decoderLayers.enumerated() { x = layer.step(x, memory: m, cache: &caches[l], cross: cross[l]) }
        position += 1
        return model.logit(model.decoderNorm(x, memory: m)).logSoftmax(axis: -1).data
    }

    mutating func reorder(_ rows: [Int]) {
        memory = memory.indexSelect(axis: 0, rows)
        for l in caches.indices {
            caches[l].keys = caches[l].keys?.indexSelect(axis: 0, rows)
            caches[l].values = caches[l].values?.indexSelect(axis: 0, rows)
        }
    }
}
