import Tensor

/// One modality's image encoder: a small residual CNN and a feature pyramid (Lin et al. 2017)
/// giving d-channel maps at strides 8, 16 and 32.
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
        lateral = c.suffix(3).map { Conv2d($0, config.dModel, kernel: 1, rng: rng) }
        output = (0..<3).map { _ in Conv2d(config.dModel, config.dModel, kernel: 3, padding: 1, rng: rng) }
    }

    /// `[B, 3, H, W]` -> pyramid levels P3, P4, P5, each `[B, d, H/s, W/s]`.
    func forward(_ images: Tensor) -> [Tensor] {
        var x = stemNorm(stem(images)).relu()
        var features: [Tensor] = []
        for stage in stages { x = stage(x); features.append(x) }
        let c = Array(features.suffix(3))
        var top = lateral[2](c[2])
        var pyramid = [top]
        for level in [1, 0] {
            let l = lateral[level](c[level])
            top = l + top.upsampleNearest(l.shape[2], l.shape[3])
            pyramid.insert(top, at: 0)
        }
        return zip(output, pyramid).map { $0(($1)) }
    }
}
