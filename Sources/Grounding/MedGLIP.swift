import Tensor

/// Med-GLIP (Deng et al. 2025): a GLIP-style grounding model with one image encoder per imaging
/// modality (or one shared), a shared language encoder, deep fusion and the alignment head.
public final class MedGLIPModel: Module {
    public let config: GroundingConfig
    let imageEncoders: [ImageEncoder]
    let language: LanguageEncoder
    let fusion: [FusionLayer]
    let head: AlignmentHead
    /// The stream the dropout layers draw from (after initialising the weights).
    let dropoutGenerator: RandomGenerator

    public init(_ config: GroundingConfig, vocabulary: Int, seed: UInt64) {
        let rng = RandomGenerator(seed: seed)
        dropoutGenerator = rng
        self.config = config
        let experts = config.experts == .shared ? 1 : max(1, config.modalities.count)
        imageEncoders = (0..<experts).map { _ in ImageEncoder(config, rng: rng) }
        language = LanguageEncoder(vocabulary: vocabulary, config, rng: rng)
        fusion = config.fusion ? (0..<config.fusionLayers).map { _ in FusionLayer(config, rng: rng) } : []
        head = AlignmentHead(config, rng: rng)
    }

    /// Restarts the dropout masks' stream: every part of a global batch (on any rank, in any
    /// micro-batch) encodes the shared prompt with the same masks, as one forward pass would.
    public func reseedDropout(_ seed: UInt64) { dropoutGenerator.reseed(seed) }

    /// The image encoder serving `modality`.
    func expert(_ modality: String) throws -> ImageEncoder {
        if config.experts == .shared { return imageEncoders[0] }
        guard let i = config.modalities.firstIndex(of: modality) else {
            throw PromptError(problem: "modality '\(modality)' has no image encoder (this model knows \(config.modalities.joined(separator: ", ")))")
        }
        return imageEncoders[i]
    }

    /// Images `[B, 3, H, W]` of one modality with one prompt's token ids.
    func forward(images: Tensor, modality: String, promptIDs: [Int]) throws -> AlignmentHead.Output {
        let encoder = try expert(modality)
        let levels = Profiler.part("image encoder") { encoder.forward(images) }
        let b = images.shape[0], d = config.dModel
        var text = Profiler.part("language encoder") { language.forward(promptIDs) }
        text = Tensor.concat(Array(repeating: text, count: b), axis: 0)  // the prompt is shared by the batch
        guard !fusion.isEmpty else { return Profiler.part("alignment head") { head.forward(levels: levels, text: text) } }
        let sizes = levels.map { $0.shape[2] * $0.shape[3] }
        let fused = Profiler.part("deep fusion") {
            var image = Tensor.concat(levels.map { $0.reshaped([b, d, -1]).transposed(1, 2) }, axis: 1)
            for layer in fusion { (image, text) = layer.forward(image: image, text: text) }
            return zip(image.split(sizes, axis: 1), levels).map { tokens, level in tokens.transposed(1, 2).reshaped(level.shape) }
        }
        return Profiler.part("alignment head") { head.forward(levels: fused, text: text) }
    }
}
