/// A basic ResNet block (He et al. 2016) with GroupNorm, which behaves the same at any batch size:
/// conv3x3 -> GroupNorm -> ReLU -> conv3x3 -> GroupNorm, plus a projected shortcut, then ReLU.
public final class ResidualBlock: Module, UnaryLayer {
    public let conv1, conv2: Conv2d
    public let norm1, norm2: GroupNorm
    public let shortcut: Conv2d?

    public init(_ inC: Int, _ outC: Int, stride: Int, rng: RandomGenerator) {
        conv1 = Conv2d(inC, outC, kernel: 3, stride: stride, padding: 1, bias: false, rng: rng)
        conv2 = Conv2d(outC, outC, kernel: 3, padding: 1, bias: false, rng: rng)
        norm1 = GroupNorm(groups: 8, channels: outC); norm2 = GroupNorm(groups: 8, channels: outC)
        shortcut = inC == outC && stride == 1 ? nil : Conv2d(inC, outC, kernel: 1, stride: stride, bias: false, rng: rng)
    }

    public func forward(_ x: Tensor) -> Tensor {
        let h = norm2(conv2(norm1(conv1(x)).relu()))
        return (h + (shortcut.map { $0(x) } ?? x)).relu()
    }
}
