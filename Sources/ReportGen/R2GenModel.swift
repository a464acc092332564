import Foundation
import Injection
import Metrics
import Tensor

/// R2Gen (Chen et al., EMNLP 2020): a visual extractor, a transformer encoder over the views'
/// patch features, and a decoder whose layer norms are driven by a relational memory.
public final class R2GenModel: Module {
    public let config: ReportGenConfig
    /// R2Gen's visual extractor, trained from scratch.
    let visualExtractor: ResidualCNN
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
    /// Grounding injection (`config.injection`): region tokens appended to the patch features, and
    /// hint words embedded and encoded together with them.
    let regionTokens: RegionTokenEncoder?
    let hintEmbedding: Embedding?
    let hintType: Tensor?

    public init(_ config: ReportGenConfig, vocabularySize: Int, seed: UInt64) {
        let rng = RandomGenerator(seed: seed)
        let d = config.dModel
        self.config = config
        visualExtractor = ResidualCNN(inChannels: 1, channels: config.channels, rng: rng)
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
        positions = sinusoidalPositions(max(config.dataset.maxSequenceLength, config.injection.maxHintTokens) + 1, d)
        let injection = config.injection
        regionTokens =
            injection.mode.usesTokens
            ? RegionTokenEncoder(width: config.channels.last!, phrases: injection.phrases, slots: injection.topK, rng: rng) : nil
        hintEmbedding = injection.mode.usesHints ? Embedding(injection.hintVocabulary.count + 2, d, rng: rng) : nil
        hintType = injection.mode.usesHints ? Tensor.randn([d], std: 0.02, rng: rng, requiresGrad: true) : nil
    }

    /// `[B * views, 1, S, S]` (a study's views adjacent) -> the views' patch features side by side,
    /// R2Gen's `att_feats` `[B, views * g * g, C]`, then one global token, then the region tokens
    /// of the first (frontal) view when injecting them (`regions[b]`: boxes in [0, 1] image
    /// coordinates).
    ///
    /// The global token is the channel-wise maximum over all patches, the vector the CheXpert label
    /// head reads. Trained from scratch, the extractor learns slowly through cross-attention alone
    /// (R2Gen starts from ImageNet weights), and the decoder settled on the normal report long
    /// before any patch said something; the label loss makes this one token say what is in the
    /// image, and the decoder can attend to it. Max rather than mean: a finding covers a few
    /// patches, and averaging over both views' grids drowned it (the label loss stayed at the prior
    /// for 300 steps with the mean; with the max, cardiomegaly's BCE fell from 0.45 to 0.03).
    public func attentionFeatures(_ images: Tensor, views: Int, regions: [[GroundedRegion]]? = nil) -> Tensor {
        let map = Profiler.part("visual extractor") { visualExtractor(images) }
        let patches = map.spatialTokens()
        let (n, p, c) = (patches.shape[0], patches.shape[1], patches.shape[2])
        let features = patches.reshaped([n / views, views * p, c])
        let global = features.max(axis: 1).reshaped([n / views, 1, c])
        guard let regionTokens else { return Tensor.concat([features, global], axis: 1) }
        let frontal = map.indexSelect(axis: 0, Array(stride(from: 0, to: n, by: views)))
        let tokens = regionTokens.forward(frontal, regions: regions ?? Array(repeating: [], count: n / views))
        return Tensor.concat([features, global, tokens], axis: 1)
    }

    /// Logits of the 14 CheXpert labels `[B, 14]` from the global token of `attentionFeatures`.
    public func labelLogits(_ attentionFeatures: Tensor) -> Tensor {
        let p = config.dataset.viewsPerStudy * config.gridSize * config.gridSize
        return labelHead(attentionFeatures.slice(axis: 1, p..<(p + 1)).reshaped([attentionFeatures.shape[0], attentionFeatures.shape[2]]))
    }

    /// The encoder's memory `[B, P (+ hint words), d]` and, with hints, the additive mask hiding
    /// padded hint positions `[B, 1, 1, P + L]`.
    public func encode(_ attentionFeatures: Tensor, hints: [[Int]]? = nil) -> EncodedStudy {
        var x = dropout(patchEmbedding(attentionFeatures).relu())
        var mask: Tensor?
        if let hintEmbedding, let hintType {
            let b = x.shape[0], p = x.shape[1]
            let hints = hints ?? Array(repeating: [], count: b)
            // At least one position, so a study without hints still has a (masked) hint slot.
            let length = max(1, hints.map(\.count).max() ?? 0)
            let ids = hints.flatMap { $0 + Array(repeating: 0, count: length - $0.count) }
            let words =
                hintEmbedding.forward(ids, shape: [b, length]) * Float(config.dModel).squareRoot()
                + positions.slice(axis: 0, 0..<length) + hintType
            x = Tensor.concat([x, dropout(words)], axis: 1)
            let hidden = hints.flatMap { h in Array(repeating: Float(0), count: p) + (0..<length).map { $0 < h.count ? 0 : -1e9 } }
            mask = Tensor(shape: [b, 1, 1, p + length], data: hidden)
        }
        let encoded = Profiler.part("encoder") { encoderNorm(encoderLayers.reduce(x) { $1.forward($0, mask: mask) }) }
        return EncodedStudy(memory: encoded, mask: mask)
    }

    /// Token embeddings x sqrt(d) plus positions from `offset`: `[B, T]` ids -> `[B, T, d]`.
    func embed(_ ids: [Int], batch: Int, length: Int, offset: Int = 0) -> Tensor {
        let e = tokenEmbedding.forward(ids, shape: [batch, length]) * Float(config.dModel).squareRoot()
        return dropout(e + positions.slice(axis: 0, offset..<(offset + length)))
    }

    /// Teacher forcing: log-probabilities `[B, T, vocab]` of each next token after `ids [B, T]`.
    public func forward(encoded: EncodedStudy, ids: [Int], length: Int) -> Tensor {
        let b = encoded.memory.shape[0]
        let x = embed(ids, batch: b, length: length)
        let memory = Profiler.part("relational memory") { relationalMemory.forward(x, from: relationalMemory.initialState(batch: b)) }
        let h = Profiler.part("decoder") {
            let layers = decoderLayers.reduce(x) { $1.forward($0, encoded: encoded.memory, memory: memory, encodedMask: encoded.mask) }
            return decoderNorm(layers, memory: memory)
        }
        return Profiler.part("output") { logit(h).logSoftmax(axis: -1) }
    }

    /// R2Gen's masked NLL: predict `sequences[t + 1]` from the prefix up to `t`, over real tokens only.
    public func loss(encoded: EncodedStudy, sequences: [[Int]]) -> Tensor {
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

    let crossMask: Tensor?

    /// `encoded`: one row per hypothesis.
    init(_ model: R2GenModel, encoded: EncodedStudy) {
        self.model = model
        memory = model.relationalMemory.initialState(batch: encoded.memory.shape[0])
        caches = Array(repeating: AttentionCache(), count: model.decoderLayers.count)
        cross = model.decoderLayers.map { $0.crossKeysValues(encoded.memory) }
        crossMask = encoded.mask
    }

    var vocabularySize: Int { model.logit.weight.shape[0] }

    mutating func step(_ tokens: [Int]) -> [Float] {
        let n = tokens.count, d = model.config.dModel
        var x = model.embed(tokens, batch: n, length: 1, offset: min(position, model.positions.shape[0] - 1))
        memory = model.relationalMemory.step(memory, token: x.reshaped([n, d]))
        let m = memory.reshaped([n, 1, model.config.memorySlots * d])
        for (l, layer) in model.decoderLayers.enumerated() { x = layer.step(x, memory: m, cache: &caches[l], cross: cross[l], crossMask: crossMask) }
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

/// The encoder's output for a batch of studies, with the mask of its padded positions (if any).
public struct EncodedStudy {
    public let memory: Tensor
    public let mask: Tensor?

    /// Rows `rows` of the batch (beam search repeats each study once per hypothesis).
    func rows(_ rows: [Int]) -> EncodedStudy {
        EncodedStudy(memory: memory.indexSelect(axis: 0, rows), mask: mask?.indexSelect(axis: 0, rows))
    }
}
