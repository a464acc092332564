/// A small ResNet trained from scratch: a stride-2 conv3x3 + GroupNorm + ReLU stem, then one
/// stride-2 `ResidualBlock` per further width. The report generator's visual extractor and the VQA
/// vision encoder both read its last feature map as a grid of patch tokens.
public final class ResidualCNN: Module, UnaryLayer {
    public let stem: Conv2d
    public let stemNorm: GroupNorm
    public let stages: [ResidualBlock]

    /// `channels[0]` is the stem's width; every further entry adds a stage.
    public init(inChannels: Int, channels: [Int], rng: RandomGenerator) {
        stem = Conv2d(inChannels, channels[0], kernel: 3, stride: 2, padding: 1, bias: false, rng: rng)
        stemNorm = GroupNorm(groups: 8, channels: channels[0])
        stages = (1..<channels.count).map { ResidualBlock(channels[$0 - 1], channels[$0], stride: 2, rng: rng) }
    }

    /// `[B, inChannels, S, S]` -> the last feature map `[B, C, S / 2^n, S / 2^n]`.
    public func forward(_ images: Tensor) -> Tensor {
        stages.reduce(stemNorm(stem(images)).relu()) { $1($0) }
    }
}

extension Tensor {
    /// A feature map `[B, C, H, W]` as tokens `[B, H * W, C]`, row by row.
    public func spatialTokens() -> Tensor {
        let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        return reshaped([b, c, h * w]).permuted([0, 2, 1])
    }
}
