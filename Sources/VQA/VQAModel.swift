import Foundation
import Injection
import Tensor

/// LLaVA (Liu et al. 2023) in small: vision encoder -> 2-layer GELU MLP projector (LLaVA-1.5's)
/// -> a causal pre-norm transformer language model over the conversation, where the `<image>`
/// token is replaced by the projected patch tokens. The output layer predicts the next word
/// (`generate`) or, read at the prompt's last token, the answer class (`classify`).
public final class VQAModel: Module {
    public let config: VQAConfig
    public let head: VQAHead
    /// The vision encoder, trained from scratch; its last feature map gives the patch tokens.
    let visionEncoder: ResidualCNN
    let projector: Sequential
    let tokenEmbedding: Embedding
    let positionEmbedding: Tensor
    let layers: [TransformerEncoderLayer]
    let finalNorm: LayerNorm
    let output: Linear
    let dropout: Dropout
    /// Grounding injection (`config.injection`): region tokens pooled from the CNN's map, appended
    /// to the patch tokens before the projector.
    let regionTokens: RegionTokenEncoder?
    /// `config.patchCoordinates`: patch centre (x, y) in [-1, 1] -> d, added to the patch tokens.
    let coordinates: Linear?
    /// `config.localization`: per-patch box labels from the CNN's map, a training-only loss.
    let localizationHead: LocalizationHead?

    /// `outputs`: the vocabulary size (generate) or the number of answer classes (classify).
    public init(_ config: VQAConfig, head: VQAHead, vocabularySize: Int, outputs: Int, maxPositions: Int, seed: UInt64) {
        let rng = RandomGenerator(seed: seed)
        let d = config.dModel
        self.config = config; self.head = head
        visionEncoder = ResidualCNN(inChannels: 1, channels: config.channels, rng: rng)
        projector = Sequential([Linear(config.channels.last!, d, rng: rng), GELU(), Linear(d, d, rng: rng)])
        tokenEmbedding = Embedding(vocabularySize, d, rng: rng)
        // GPT-2's initialisation: small embeddings, so words and image tokens start on one scale.
        Init.normal(tokenEmbedding.weight, std: 0.02, rng: rng)
        positionEmbedding = Tensor.randn([maxPositions, d], std: 0.02, rng: rng, requiresGrad: true)
        layers = (0..<config.layers).map { _ in
            TransformerEncoderLayer(dModel: d, heads: config.heads, dFF: config.dFF, dropout: config.dropout, rng: rng)
        }
        finalNorm = LayerNorm(d)
        output = Linear(d, outputs, rng: rng)
        dropout = Dropout(config.dropout, rng: rng)
        // Created last, so a model without injection draws the same initial weights as before.
        let injection = config.injection
        regionTokens =
            injection.mode.usesTokens
            ? RegionTokenEncoder(width: config.channels.last!, phrases: injection.phrases, slots: injection.topK, rng: rng) : nil
        coordinates = config.patchCoordinates ? Linear(2, d, rng: rng) : nil
        localizationHead = config.localization.map { LocalizationHead(width: config.channels.last!, labels: $0.labels.count, rng: rng) }
    }

    public var maxPositions: Int { positionEmbedding.shape[0] }

    /// Projected image tokens `[B, P (+ slots), d]` of images `[B, 1, S, S]`: the patch tokens, then
    /// (when injecting them) the region tokens of `regions[b]` (boxes in [0, 1] image coordinates).
    func imageTokens(_ images: Tensor, regions: [[GroundedRegion]]? = nil) -> Tensor {
        imageTokens(map: visionEncoder(images), regions: regions)
    }

    /// The same from the vision encoder's map `[B, C, g, g]` (training also reads the map itself).
    func imageTokens(map: Tensor, regions: [[GroundedRegion]]? = nil) -> Tensor {
        var patches = projector(map.spatialTokens())
        if let coordinates { patches = patches + coordinates(Self.patchCentres(grid: map.shape[2])) }
        guard let regionTokens else { return patches }
        return Tensor.concat([patches, projector(regionTokens.forward(map, regions: regions ?? Array(repeating: [], count: map.shape[0])))], axis: 1)
    }

    /// `[g * g, 2]`: each patch's centre (x, y) in [-1, 1], row by row as `spatialTokens`.
    static func patchCentres(grid g: Int) -> Tensor {
        let centre = { (i: Int) in (2 * Float(i) + 1) / Float(g) - 1 }
        return Tensor((0..<(g * g)).flatMap { [centre($0 % g), centre($0 / g)] }, shape: [g * g, 2])
    }

    /// The fused input `[B, T + P - 1, d]`: token embeddings with each row's `<image>` id (at the same
    /// `slot` in every row) replaced by that row's image tokens, plus positions from `offset`.
    func fuse(_ ids: [[Int]], imageTokens: Tensor, slot: Int) -> Tensor {
        let (b, t) = (ids.count, ids[0].count)
        let text = tokenEmbedding.forward(ids.flatMap { $0 }, shape: [b, t])
        let x = Tensor.concat([text.slice(axis: 1, 0..<slot), imageTokens, text.slice(axis: 1, (slot + 1)..<t)], axis: 1)
        return dropout(x + positionEmbedding.slice(axis: 0, 0..<x.shape[1]))
    }

    /// Additive key mask `[B, 1, 1, T + P - 1]` of the fused sequence of `ids`: padding is never
    /// attended to. The hint slot is padded to a fixed width, and without this mask an image with
    /// no confident regions put 32 identical pad keys in front of its question, which drew attention
    /// away from the image (on the SLAKE-format corpus the mask took closed accuracy with grounder
    /// hints from 0.817 to 0.843, modality questions from 0.68 to 0.88).
    func paddingMask(_ ids: [[Int]], imageTokens p: Int, slot: Int) -> Tensor {
        let fused = ids.map { row in
            row[..<slot].map { $0 == VQAVocabulary.pad } + [Bool](repeating: false, count: p) + row[(slot + 1)...].map { $0 == VQAVocabulary.pad }
        }
        return Tensor(fused.flatMap { $0.map { $0 ? -Float.infinity : 0 } }, shape: [ids.count, 1, 1, fused[0].count])
    }

    /// Hidden states `[B, T - slot - 1, d]` (after the final norm) of every text position after
    /// `<image>` in rows `ids`, row `b` showing image `imageOf[b]` of `imageTokens` `[I, P, d]`.
    /// Causal attention (LLaVA's language model) never lets the system line or an image token see
    /// the question after it, so all the questions of one image share the states of that prefix:
    /// it runs once per image, and each question row attends to its image's prefix. The result is
    /// the full sequences' (tested), with the prefix's layers run once instead of once per question.
    func continuationHidden(_ ids: [[Int]], imageTokens: Tensor, imageOf: [Int], slot: Int) -> Tensor {
        let (images, p) = (imageTokens.shape[0], imageTokens.shape[1])
        let lead = Array(ids[0][..<slot]), tail = ids[0].count - slot - 1
        precondition(ids.allSatisfy { Array($0[..<slot]) == lead }, "every row must share the text before <image>")
        let text = tokenEmbedding.forward(Array([[Int]](repeating: lead, count: images).joined()), shape: [images, slot])
        var prefix = dropout(Tensor.concat([text, imageTokens], axis: 1) + positionEmbedding.slice(axis: 0, 0..<(slot + p)))
        let words = tokenEmbedding.forward(ids.flatMap { $0[(slot + 1)...] }, shape: [ids.count, tail])
        var rows = dropout(words + positionEmbedding.slice(axis: 0, (slot + p)..<(slot + p + tail)))
        let mask = paddingMask(ids, imageTokens: p, slot: slot)
        for layer in layers { (prefix, rows) = layer.forward(prefix: prefix, rows: rows, prefixOf: imageOf, mask: mask) }
        return finalNorm(rows)
    }

    /// Generative head: next-token loss on the answer tokens (and `<eos>`) only; prompt and image
    /// positions, and padding, carry no loss (LLaVA's label masking). Row `b` shows image
    /// `imageOf[b]` of `imageTokens` (default: image `b`).
    public func generativeLoss(imageTokens: Tensor, imageOf: [Int]? = nil, prompts: [[Int]], answers: [[Int]]) -> Tensor {
        let tf = TeacherForcing(prompts: prompts, answers: answers)
        // Text position j > slot predicts the token after it; only answer tokens carry loss.
        let h = continuationHidden(tf.inputs, imageTokens: imageTokens, imageOf: imageOf ?? Array(prompts.indices), slot: tf.slot)
        let logProbs = output(h).logSoftmax(axis: -1)
        return nllLoss(logProbs.reshaped([tf.targets.count, logProbs.shape[2]]), targets: tf.targets, mask: tf.mask)
    }

    /// Summed log-probability of each row's answer tokens (and its `<eos>`) after its prompt: how
    /// likely the model finds a given answer, to rank the answers a choice question allows.
    func answerLogLikelihoods(imageTokens: Tensor, imageOf: [Int], prompts: [[Int]], answers: [[Int]]) -> [Float] {
        let tf = TeacherForcing(prompts: prompts, answers: answers)
        let logProbs = output(continuationHidden(tf.inputs, imageTokens: imageTokens, imageOf: imageOf, slot: tf.slot)).logSoftmax(axis: -1)
        let (vocab, perRow) = (logProbs.shape[2], tf.targets.count / prompts.count)
        return prompts.indices.map { r in
            ((r * perRow)..<((r + 1) * perRow)).reduce(Float(0)) { sum, j in tf.mask[j] > 0 ? sum + logProbs.data[j * vocab + tf.targets[j]] : sum }
        }
    }

    /// Classify head: logits `[B, answers]` read at each prompt's last token (`<assistant>`'s turn),
    /// which under causal attention has seen the image and the whole question.
    public func classLogits(imageTokens: Tensor, imageOf: [Int]? = nil, prompts: [[Int]]) -> Tensor {
        let slot = prompts[0].firstIndex(of: VQAVocabulary.image)!
        let t = prompts.map(\.count).max()!
        let padded = prompts.map { $0 + [Int](repeating: VQAVocabulary.pad, count: t - $0.count) }
        let h = continuationHidden(padded, imageTokens: imageTokens, imageOf: imageOf ?? Array(prompts.indices), slot: slot)
        let (b, tail, d) = (h.shape[0], h.shape[1], h.shape[2])
        let last = prompts.enumerated().map { i, p in i * tail + p.count - 1 - (slot + 1) }
        return output(h.reshaped([b * tail, d]).indexSelect(axis: 0, last))
    }

    public func classifyLoss(imageTokens: Tensor, imageOf: [Int]? = nil, prompts: [[Int]], classes: [Int]) -> Tensor {
        crossEntropy(classLogits(imageTokens: imageTokens, imageOf: imageOf, prompts: prompts), targets: classes)
    }
}

/// Teacher-forcing inputs and targets for prompt + answer sequences, right-padded (causal
/// attention never lets a real token see the padding after it). Targets cover text positions
/// after the image slot; `mask` is 1 exactly where the target is an answer token or `<eos>`.
struct TeacherForcing {
    let inputs: [[Int]]
    let slot: Int
    let targets: [Int]
    let mask: [Float]

    init(prompts: [[Int]], answers: [[Int]]) {
        let sequences = zip(prompts, answers).map { $0 + $1 }
        let length = sequences.map(\.count).max()! - 1
        let slot = prompts[0].firstIndex(of: VQAVocabulary.image)!
        precondition(prompts.allSatisfy { $0.firstIndex(of: VQAVocabulary.image) == slot }, "every prompt must hold <image> at the same position")
        var inputs: [[Int]] = [], targets: [Int] = [], mask: [Float] = []
        for (s, prompt) in zip(sequences, prompts) {
            inputs.append((0..<length).map { $0 < s.count ? s[$0] : VQAVocabulary.pad })
            for j in (slot + 1)..<length {
                let inAnswer = j + 1 >= prompt.count && j + 1 < s.count
                targets.append(j + 1 < s.count ? s[j + 1] : VQAVocabulary.pad)
                mask.append(inAnswer ? 1 : 0)
            }
        }
        self.inputs = inputs; self.slot = slot; self.targets = targets; self.mask = mask
    }
}
