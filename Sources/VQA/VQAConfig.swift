import Foundation
import Injection

/// Which dataset's conventions a run follows: SLAKE's three split files, or VQA-RAD's train file
/// with a validation split carved from it by image.
public enum VQADatasetKind: String, Codable, Sendable, CaseIterable {
    case slake, vqaRad = "vqa-rad"
}

/// The answer head: LLaVA's generative one (decode answer tokens), or a classifier over the
/// answers seen in training (MEVF / M3AE style).
public enum VQAHead: String, Codable, Sendable, CaseIterable {
    case generate, classify
}

/// Sizes of the LLaVA-style model: CNN -> patch grid -> projector -> small causal transformer.
/// Small enough to train on two CPU cores in minutes.
public struct VQAConfig: Codable, Sendable, Equatable {
    public var imageSize = 128
    /// CNN widths: stem, then one stride-2 residual stage per entry after the first.
    public var channels = [32, 48, 96, 128]
    public var dModel = 128
    public var dFF = 256
    public var heads = 4
    public var layers = 4
    public var dropout: Float = 0.1
    /// Question tokens beyond this are cut (and counted) so sequences fit the position table.
    public var maxQuestionTokens = 40
    public var maxAnswerTokens = 12
    /// Add a learned linear embedding of each patch's (x, y) centre to its token, so "left of the
    /// midline" is one direction in token space rather than 64 separately learned positions
    /// (measured in docs/experiments/vqa.md). Runs from before the option existed decode as off.
    public var patchCoordinates = true
    /// Grounding injected into the model (none by default): region tokens after the patch tokens,
    /// hint words in the prompt before the question.
    public var injection = InjectionOptions()
    /// Training only: the vision encoder also learns where the training images' boxes are
    /// (`LocalizationHead`). Nil: off (and in runs from before the option existed).
    public var localization: LocalizationOptions?
    /// Training only: epochs of denoising auto-encoder pre-training of the vision encoder
    /// (`PatchDecoder`) before everything else. Nil: none (and in runs from before the option existed).
    public var autoencoderPretrainEpochs: Int?

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case imageSize, channels, dModel, dFF, heads, layers, dropout, maxQuestionTokens, maxAnswerTokens, patchCoordinates, injection
        case localization, autoencoderPretrainEpochs
    }

    /// Every field as written; `patchCoordinates` off when absent (runs from before it existed).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageSize = try c.decode(Int.self, forKey: .imageSize)
        channels = try c.decode([Int].self, forKey: .channels)
        dModel = try c.decode(Int.self, forKey: .dModel)
        dFF = try c.decode(Int.self, forKey: .dFF)
        heads = try c.decode(Int.self, forKey: .heads)
        layers = try c.decode(Int.self, forKey: .layers)
        dropout = try c.decode(Float.self, forKey: .dropout)
        maxQuestionTokens = try c.decode(Int.self, forKey: .maxQuestionTokens)
        maxAnswerTokens = try c.decode(Int.self, forKey: .maxAnswerTokens)
        patchCoordinates = try c.decodeIfPresent(Bool.self, forKey: .patchCoordinates) ?? false
        injection = try c.decode(InjectionOptions.self, forKey: .injection)
        localization = try c.decodeIfPresent(LocalizationOptions.self, forKey: .localization)
        autoencoderPretrainEpochs = try c.decodeIfPresent(Int.self, forKey: .autoencoderPretrainEpochs)
    }

    /// Side of the patch grid: the stem and every stage halve the image.
    public var gridSize: Int { imageSize >> channels.count }
    public var patches: Int { gridSize * gridSize }
    /// What replaces `<image>`: the patch tokens and, when injecting them, one token per region slot.
    public var imageTokenCount: Int { patches + (injection.mode.usesTokens ? injection.topK : 0) }
}
