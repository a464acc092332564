import Tensor

/// Memory-driven conditional layer norm (MCLN, R2Gen Sec. 2.3): R2Gen's layer norm
/// `gamma * (x - mean) / (std_unbiased + eps) + beta` whose gamma and beta are shifted, per time
/// step, by two MLPs of the relational memory state.
final class ConditionalLayerNorm: Module {
    let gamma, beta: Tensor
    let mlpGamma, mlpBeta: Sequential
    let eps: Float = 1e-6

    init(dModel: Int, memoryWidth: Int, rng: RandomGenerator) {
        gamma = Tensor.ones([dModel], requiresGrad: true)
        beta = Tensor.zeros([dModel], requiresGrad: true)
        func mlp() -> Sequential {
            let (a, b) = (Linear(memoryWidth, dModel, rng: rng), Linear(dModel, dModel, rng: rng))
            // R2Gen: xavier-uniform weights, biases 0.1.
            for l in [a, b] { Init.xavierUniform(l.weight, rng: rng); Init.constant(l.bias!, 0.1) }
            return Sequential([a, ReLU(), b])
        }
        mlpGamma = mlp(); mlpBeta = mlp()
    }

    /// `x [B, T, d]` conditioned on `memory [B, T, slots * d]`.
    func callAsFunction(_ x: Tensor, memory: Tensor) -> Tensor {
        let normalized = x.normalizeChunks(x.shape.last!, eps: eps, variant: .unbiasedStd)
        return normalized * (gamma + mlpGamma(memory)) + (beta + mlpBeta(memory))
    }
}
