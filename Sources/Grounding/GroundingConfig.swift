/// Sizes of the Med-GLIP model, chosen for a CPU. `experts` selects one image encoder per
/// modality (the paper's modality-specific experts) or a single shared one.
public struct GroundingConfig: Codable, Sendable, Equatable {
    public enum Experts: String, Codable, Sendable { case perModality = "per-modality", shared }

    public var dModel = 64
    public var heads = 4
    public var textLayers = 2
    public var fusionLayers = 1
    public var fusion = true
    /// Channels of the stem and the four residual stages (strides 2, 4, 8, 16, 32).
    public var channels = [16, 24, 48, 96, 128]
    /// Pyramid levels: the strides of the last stages (8/16/32, or 4/8/16/32).
    public var strides = [8, 16, 32]
    public var maxTokens = 64
    public var experts = Experts.perModality
    public var modalities: [String] = []
    /// Prior probability of a positive token at initialisation (focal-loss bias).
    public var priorProbability: Float = 0.01

    public init() {}

    /// The strides of the residual stages (4, 8, 16, 32): `strides` must be the last of these.
    public var stageStrides: [Int] { (1..<channels.count).map { 1 << ($0 + 1) } }
}
