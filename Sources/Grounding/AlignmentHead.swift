import Foundation
import Tensor

/// The detection head, shared across pyramid levels. Class logits are alignment scores between
/// region features and prompt tokens (GLIP): S = (proj(F) . proj(T)^T) / exp(logScale) + bias,
/// with the bias starting at the focal prior -log((1 - p) / p) so that early training is stable.
/// Both projections are L2-normalised, so the dot product is a cosine and the learnable scale
/// alone sets how sharp the scores become.
/// Boxes are (l, t, r, b) distances times a learnable per-level scale, and a centerness logit.
final class AlignmentHead: Module {
    let clsTower, regTower: Sequential
    let imageProjection, textProjection: Linear
    let tokenBias: Linear
    let logScale: Tensor
    let biasPrior: Tensor
    let regression, centerness: Conv2d
    let levelScales: Tensor

    init(_ config: GroundingConfig, rng: RandomGenerator) {
        let d = config.dModel
        func tower() -> Sequential {
            Sequential([
                Conv2d(d, d, kernel: 3, padding: 1, rng: rng), GroupNorm(groups: 8, channels: d), ReLU(),
                Conv2d(d, d, kernel: 3, padding: 1, rng: rng), GroupNorm(groups: 8, channels: d), ReLU()
            ])
        }
        clsTower = tower(); regTower = tower()
        imageProjection = Linear(d, d, rng: rng); textProjection = Linear(d, d, rng: rng)
        tokenBias = Linear(d, 1, rng: rng)
        Init.constant(tokenBias.weight, 0); Init.constant(tokenBias.bias!, 0)
        logScale = Tensor.zeros([1], requiresGrad: true)
        biasPrior = Tensor.full([1], -Foundation.log((1 - config.priorProbability) / config.priorProbability), requiresGrad: true)
        regression = Conv2d(d, 4, kernel: 3, padding: 1, rng: rng)
        centerness = Conv2d(d, 1, kernel: 3, padding: 1, rng: rng)
        for c in [regression, centerness] { Init.normal(c.weight, std: 0.01, rng: rng); Init.constant(c.bias!, 0) }
        levelScales = Tensor.ones([config.strides.count], requiresGrad: true)
    }

    struct Output {
        /// `[B, P, T]` alignment logits for every point and prompt token.
        var logits: Tensor
        /// `[B, P, 4]` (l, t, r, b) in stride units, non-negative.
        var ltrb: Tensor
        /// `[B, P]` centerness logits.
        var centerness: Tensor
    }

    /// `levels`: pyramid maps `[B, d, h, w]`; `text`: `[B, T, d]` (fused prompt tokens).
    func forward(levels: [Tensor], text: Tensor) -> Output {
        let b = levels[0].shape[0], d = levels[0].shape[1]
        func tokens(_ x: Tensor) -> Tensor { x.reshaped([b, d, -1]).transposed(1, 2) }  // [B, hw, d]
        var cls: [Tensor] = [], reg: [Tensor] = [], ctr: [Tensor] = []
        for (k, level) in levels.enumerated() {
            cls.append(tokens(clsTower(level)))
            let r = regTower(level)
            let scale = levelScales.slice(axis: 0, k..<(k + 1))
            reg.append((regression(r) * scale).relu().reshaped([b, 4, -1]).transposed(1, 2))
            ctr.append(centerness(r).reshaped([b, -1]))
        }
        let features = l2Normalized(imageProjection(Tensor.concat(cls, axis: 1)))  // [B, P, d]
        let prompt = l2Normalized(textProjection(text))  // [B, T, d]
        let dot = Tensor.matmul(features, prompt, transposeB: true) * (-logScale).exp()
        let bias = (tokenBias(text) + biasPrior).transposed(1, 2)  // [B, 1, T]
        return Output(logits: dot + bias, ltrb: Tensor.concat(reg, axis: 1), centerness: Tensor.concat(ctr, axis: 1))
    }
}

/// x / ||x|| along the last axis.
func l2Normalized(_ x: Tensor, eps: Float = 1e-6) -> Tensor {
    x / ((x * x).sum(axis: -1, keepDims: true) + eps).sqrt()
}
