import Tensor

/// R2Gen's visual extractor, trained from scratch: a residual CNN whose last feature map is read
/// as a grid of patch features (R2Gen's `att_feats`), plus their mean (`fc_feats`).
final class VisualExtractor: Module {
    let stem: Conv2d
    let stemNorm: GroupNorm
    let stages: [ResidualBlock]

    init(_ config: ReportGenConfig, rng: RandomGenerator) {
        let c = config.channels
        stem = Conv2d(1, c[0], kernel: 3, stride: 2, padding: 1, bias: false, rng: rng)
        stemNorm = GroupNorm(groups: 8, channels: c[0])
        stages = (1..<c.count).map { ResidualBlock(c[$0 - 1], c[$0], stride: 2, rng: rng) }
    }

    /// `[B, 1, S, S]` -> the last feature map `[B, C, g, g]`.
    func featureMap(_ images: Tensor) -> Tensor {
        stages.reduce(stemNorm(stem(images)).relu()) { $1($0) }
    }

    /// `[B, C, g, g]` -> patch features `[B, g*g, C]`.
    static func patches(_ map: Tensor) -> Tensor {
        let (b, c, h, w) = (map.shape[0], map.shape[1], map.shape[2], map.shape[3])
        return map.reshaped([b, c, h * w]).permuted([0, 2, 1])
    }
}
