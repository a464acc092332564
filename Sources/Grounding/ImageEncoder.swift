import Tensor

/// One modality's image encoder: a small residual CNN and a feature pyramid (Lin et al. 2017)
/// giving d-channel maps at the configured strides, the last stages' (8, 16 and 32 by default;
/// 4, 8, 16 and 32 adds a level for findings a few pixels wide).
final class ImageEncoder: Module {
    let stem: Conv2d
    let stemNorm: GroupNorm
    let stages: [ResidualBlock]
    let lateral: [Conv2d]
    let output: [Conv2d]

    init(_ config: GroundingConfig, rng: RandomGenerator) {
        let c = config.channels
        stem = Conv2d(3, c[0], kernel: 3, stride: 2, padding: 1, bias: false, rng: rng)
        stemNorm = GroupNorm(groups: 8, channels: c[0])
        stages = (1..<c.count).map { ResidualBlock(c[$0 - 1], c[$0], stride: 2, rng: rng) }
        lateral = c.suffix(config.strides.count).map { Conv2d($0, config.dModel, kernel: 1, rng: rng) }
        output = config.strides.map { _ in Conv2d(config.dModel, config.dModel, kernel: 3, padding: 1, rng: rng) }
    }

    /// `[B, 3, H, W]` -> pyramid levels (P3, P4, P5 by default), each `[B, d, H/s, W/s]`.
    func forward(_ images: Tensor) -> [Tensor] {
        var x = stemNorm(stem(images)).relu()
        var features: [Tensor] = []
        for stage in stages { x = stage(x); features.append(x) }
        let c = Array(features.suffix(lateral.count))
        var top = lateral[c.count - 1](c[c.count - 1])
        var pyramid = [top]
        for level in (0..<(c.count - 1)).reversed() {
            let l = lateral[level](c[level])
            top = l + top.upsampleNearest(l.shape[2], l.shape[3])
            pyramid.insert(top, at: 0)
        }
        return zip(output, pyramid).map { $0(($1)) }
    }
}
