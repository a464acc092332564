import Foundation

/// Weight initialisers, with fans computed as PyTorch does (fan_in = shape[1] x receptive field).
public enum Init {
    static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "fan computation needs at least 2 dimensions, got \(shape)")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// Glorot & Bengio: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).
    public static func xavierUniform(_ t: Tensor, gain: Float = 1, rng: RandomGenerator) {
        let (fi, fo) = fans(t.shape)
        let a = gain * (6 / Float(fi + fo)).squareRoot()
        for i in 0..<t.count { t.data[i] = rng.uniform(-a, a) }
    }

    /// He et al.: N(0, std), std = sqrt(2 / fan_in) (ReLU gain, fan-in mode).
    public static func kaimingNormal(_ t: Tensor, rng: RandomGenerator) {
        let std = (2 / Float(fans(t.shape).fanIn)).squareRoot()
        for i in 0..<t.count { t.data[i] = rng.normal() * std }
    }

    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for Linear and Conv2d weights and biases.
    public static func uniformFanIn(_ t: Tensor, fanIn: Int, rng: RandomGenerator) {
        let a = 1 / Float(max(fanIn, 1)).squareRoot()
        for i in 0..<t.count { t.data[i] = rng.uniform(-a, a) }
    }

    public static func constant(_ t: Tensor, _ value: Float) {
        for i in 0..<t.count { t.data[i] = value }
    }

    public static func normal(_ t: Tensor, std: Float, rng: RandomGenerator) {
        for i in 0..<t.count { t.data[i] = rng.normal() * std }
    }
}
