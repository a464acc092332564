/// y = x W^T + b.
public final class Linear: Module, UnaryLayer {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: RandomGenerator) {
        weight = Tensor.zeros([outFeatures, inFeatures], requiresGrad: true)
        self.bias = bias ? Tensor.zeros([outFeatures], requiresGrad: true) : nil
        Init.uniformFanIn(weight, fanIn: inFeatures, rng: rng)
        if let b = self.bias { Init.uniformFanIn(b, fanIn: inFeatures, rng: rng) }
    }

    public func forward(_ x: Tensor) -> Tensor { linear(x, weight: weight, bias: bias) }
}

/// 2-D convolution over NCHW.
public final class Conv2d: Module, UnaryLayer {
    public let weight: Tensor
    public let bias: Tensor?
    public let geometry: Conv2dGeometry

    public init(
        _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
        dilation: Int = 1, bias: Bool = true, rng: RandomGenerator
    ) {
        geometry = Conv2dGeometry(kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        weight = Tensor.zeros([outChannels, inChannels, kernel, kernel], requiresGrad: true)
        self.bias = bias ? Tensor.zeros([outChannels], requiresGrad: true) : nil
        Init.kaimingNormal(weight, rng: rng)
    }

    public func forward(_ x: Tensor) -> Tensor { conv2d(x, weight: weight, bias: bias, geometry) }
}

/// Layer norm over the last dimension.
public final class LayerNorm: Module, UnaryLayer {
    public let weight: Tensor
    public let bias: Tensor
    public let eps: Float
    public let variant: NormVariant

    public init(_ dim: Int, eps: Float = 1e-5, variant: NormVariant = .standard) {
        weight = Tensor.ones([dim], requiresGrad: true)
        bias = Tensor.zeros([dim], requiresGrad: true)
        self.eps = eps; self.variant = variant
    }

    public func forward(_ x: Tensor) -> Tensor { layerNorm(x, gamma: weight, beta: bias, eps: eps, variant: variant) }
}

public final class GroupNorm: Module, UnaryLayer {
    public let weight: Tensor
    public let bias: Tensor
    public let groups: Int
    public let eps: Float

    public init(groups: Int, channels: Int, eps: Float = 1e-5) {
        precondition(channels % groups == 0, "\(channels) channels do not split into \(groups) groups")
        weight = Tensor.ones([channels], requiresGrad: true)
        bias = Tensor.zeros([channels], requiresGrad: true)
        self.groups = groups; self.eps = eps
    }

    public func forward(_ x: Tensor) -> Tensor { groupNorm(x, groups: groups, gamma: weight, beta: bias, eps: eps) }
}

public final class BatchNorm2d: Module, UnaryLayer {
    public let weight: Tensor
    public let bias: Tensor
    public let runningMean: Tensor
    public let runningVar: Tensor
    public let momentum: Float
    public let eps: Float

    public init(_ channels: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
        weight = Tensor.ones([channels], requiresGrad: true)
        bias = Tensor.zeros([channels], requiresGrad: true)
        runningMean = Tensor.zeros([channels])
        runningVar = Tensor.ones([channels])
        self.momentum = momentum; self.eps = eps
    }

    public func forward(_ x: Tensor) -> Tensor {
        batchNorm(
            x, runningMean: runningMean, runningVar: runningVar, gamma: weight, beta: bias,
            training: training, momentum: momentum, eps: eps)
    }
}

/// A lookup table of `vocab` vectors of size `dim`, initialised N(0, 1) as in PyTorch.
public final class Embedding: Module {
    public let weight: Tensor

    public init(_ vocab: Int, _ dim: Int, rng: RandomGenerator) {
        weight = Tensor.randn([vocab, dim], rng: rng, requiresGrad: true)
    }

    /// Embeds a `[batch, length]` (or any shape) grid of token ids.
    public func forward(_ ids: [Int], shape: [Int]) -> Tensor { embedding(ids, shape: shape, weight: weight) }
}
