import Foundation
import XCTest

@testable import Tensor

/// Gradient and value checks of `Sources/Tensor/Ops/Normalization.swift` (helpers in GradientCheckInputs.swift).
final class NormalizationGradientTests: XCTestCase {
    // MARK: - Normalisation

    func testNormalizeChunks() {
        let x = tensor([3, 8], seed: 210, low: -2, high: 2)
        checkGradients("normalizeChunks standard chunk 4", inputs: [x]) { $0[0].normalizeChunks(4, eps: 1e-5) }
        checkGradients("normalizeChunks standard chunk 8", inputs: [x]) { $0[0].normalizeChunks(8, eps: 1e-5, variant: .standard) }
        checkGradients("normalizeChunks unbiasedStd chunk 4", inputs: [x]) { $0[0].normalizeChunks(4, eps: 1e-6, variant: .unbiasedStd) }
        checkGradients("normalizeChunks unbiasedStd chunk 6", inputs: [x]) { $0[0].normalizeChunks(6, eps: 1e-3, variant: .unbiasedStd) }
        checkGradients("normalizeChunks large eps", inputs: [x]) { $0[0].normalizeChunks(4, eps: 0.5) }
    }

    func testLayerNorm() {
        let x = tensor([2, 3, 4], seed: 220, low: -2, high: 2)
        let gamma = tensor([4], seed: 221, low: 0.5, high: 1.5), beta = tensor([4], seed: 222)
        checkGradients("layerNorm affine", inputs: [x, gamma, beta]) { layerNorm($0[0], gamma: $0[1], beta: $0[2]) }
        checkGradients("layerNorm no affine", inputs: [x]) { layerNorm($0[0], gamma: nil, beta: nil) }
        checkGradients("layerNorm unbiasedStd affine", inputs: [x, gamma, beta]) {
            layerNorm($0[0], gamma: $0[1], beta: $0[2], eps: 1e-6, variant: .unbiasedStd)
        }
        // Conditional layer norm: gamma and beta of shape [2,1,4] broadcast over the sequence.
        let cg = tensor([2, 1, 4], seed: 223, low: 0.5, high: 1.5), cb = tensor([2, 1, 4], seed: 224)
        checkGradients("layerNorm conditional gamma/beta", inputs: [x, cg, cb]) { layerNorm($0[0], gamma: $0[1], beta: $0[2]) }
        checkGradients("layerNorm conditional unbiasedStd", inputs: [x, cg, cb]) {
            layerNorm($0[0], gamma: $0[1], beta: $0[2], eps: 1e-6, variant: .unbiasedStd)
        }
    }

    func testLayerNormValues() {
        let x = Tensor([1, 2, 3, 4, 2, 2, 2, 2], shape: [2, 4])
        // Biased variance 1.25: (x - 2.5) / sqrt(1.25 + eps). A constant row normalises to zeros.
        let standard = layerNorm(x, gamma: nil, beta: nil, eps: 1e-5)
        let s = (1.25 + 1e-5 as Float).squareRoot()
        assertClose(standard.data, [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, 0, 0, 0, 0], "standard layerNorm")
        // Unbiased std sqrt(5/3) with eps added to the std: (x - 2.5) / (1.2909944 + eps).
        let unbiased = layerNorm(x, gamma: nil, beta: nil, eps: 1e-6, variant: .unbiasedStd)
        let u = (5 / 3 as Float).squareRoot() + 1e-6
        assertClose(unbiased.data, [-1.5 / u, -0.5 / u, 0.5 / u, 1.5 / u, 0, 0, 0, 0], "unbiased-std layerNorm")
        assertClose(Array(unbiased.data[0..<4]), [-1.161895, -0.387298, 0.387298, 1.161895], tol: 1e-5, "unbiased-std by hand")
        // Affine and conditional affine.
        let affine = layerNorm(Tensor([1, 2, 3, 4], shape: [1, 4]), gamma: Tensor([2, 2, 2, 2]), beta: Tensor([1, 1, 1, 1]), eps: 0)
        let t = (1.25 as Float).squareRoot()
        assertClose(affine.data, [1 - 3 / t, 1 - 1 / t, 1 + 1 / t, 1 + 3 / t], "affine layerNorm")
        let cond = layerNorm(
            Tensor([1, 2, 3, 4, 1, 2, 3, 4], shape: [2, 1, 4]), gamma: Tensor([1, 1, 1, 1, 2, 2, 2, 2], shape: [2, 1, 4]),
            beta: Tensor([0, 0, 0, 0, 5, 5, 5, 5], shape: [2, 1, 4]), eps: 0)
        assertClose(Array(cond.data[4..<8]), [5 - 3 / t, 5 - 1 / t, 5 + 1 / t, 5 + 3 / t], "conditional layerNorm")
    }

    func testGroupNorm() {
        let x = tensor([2, 4, 3, 3], seed: 230, low: -2, high: 2)
        let gamma = tensor([4], seed: 231, low: 0.5, high: 1.5), beta = tensor([4], seed: 232)
        checkGradients("groupNorm 2 groups", inputs: [x, gamma, beta]) { groupNorm($0[0], groups: 2, gamma: $0[1], beta: $0[2]) }
        checkGradients("groupNorm 1 group", inputs: [x, gamma, beta]) { groupNorm($0[0], groups: 1, gamma: $0[1], beta: $0[2]) }
        checkGradients("groupNorm 4 groups no affine", inputs: [x]) { groupNorm($0[0], groups: 4, gamma: nil, beta: nil) }
        // Per-channel affine: with 2 groups of one channel each, channel 0 [1, 3] -> [-1, 1] * 2 + 1 and
        // channel 1 [10, 30] -> [-1, 1] * 3 - 1.
        let affine = groupNorm(Tensor([1, 3, 10, 30], shape: [1, 2, 1, 2]), groups: 2, gamma: Tensor([2, 3]), beta: Tensor([1, -1]), eps: 0)
        assertClose(affine.data, [-1, 3, -4, 2], "groupNorm affine")
        // One group over both channels: mean 11, biased variance 131.5.
        let one = groupNorm(Tensor([1, 3, 10, 30], shape: [1, 2, 1, 2]), groups: 1, gamma: nil, beta: nil, eps: 0)
        assertClose(one.data, [1, 3, 10, 30].map { ($0 - 11) / (131.5 as Float).squareRoot() }, "groupNorm one group")
        // Each (sample, group) has zero mean and unit (biased) variance.
        let y = groupNorm(x, groups: 2, gamma: nil, beta: nil, eps: 0)
        for chunk in 0..<4 {
            let v = y.data[(chunk * 18)..<((chunk + 1) * 18)]
            let mean = v.reduce(0, +) / 18
            let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 18
            XCTAssertEqual(mean, 0, accuracy: 1e-5)
            XCTAssertEqual(variance, 1, accuracy: 1e-4)
        }
    }

    func testBatchNorm() {
        let x = tensor([3, 2, 2, 3], seed: 240, low: -2, high: 2)
        let gamma = tensor([2], seed: 241, low: 0.5, high: 1.5), beta = tensor([2], seed: 242)
        // Training: gradients flow through the batch mean and variance.
        checkGradients("batchNorm training", inputs: [x, gamma, beta]) {
            batchNorm($0[0], runningMean: Tensor.zeros([2]), runningVar: Tensor.ones([2]), gamma: $0[1], beta: $0[2], training: true)
        }
        checkGradients("batchNorm training no affine", inputs: [x]) {
            batchNorm($0[0], runningMean: Tensor.zeros([2]), runningVar: Tensor.ones([2]), gamma: nil, beta: nil, training: true)
        }
        // Eval: a fixed per-channel affine map.
        checkGradients("batchNorm eval", inputs: [x, gamma, beta]) {
            batchNorm($0[0], runningMean: Tensor([0.1, -0.2]), runningVar: Tensor([0.5, 1.5]), gamma: $0[1], beta: $0[2], training: false)
        }
    }

    func testBatchNormValues() {
        // Channel 0 holds 1...4, channel 1 holds 10, 20, 30, 40 (N = 2, H = 1, W = 2).
        let x = Tensor([1, 2, 10, 20, 3, 4, 30, 40], shape: [2, 2, 1, 2])
        let rm = Tensor.zeros([2]), rv = Tensor.ones([2])
        let y = batchNorm(x, runningMean: rm, runningVar: rv, gamma: nil, beta: nil, training: true, momentum: 0.1, eps: 0)
        let s = (1.25 as Float).squareRoot()
        assertClose(y.data, [-1.5 / s, -0.5 / s, -1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, 0.5 / s, 1.5 / s], "batch-normalised")
        // Running statistics: momentum 0.1, unbiased variance (5/3 and 500/3).
        assertClose(rm.data, [0.25, 2.5], "running mean")
        assertClose(rv.data, [0.9 + 0.1 * 5 / 3, 0.9 + 0.1 * 500 / 3], "running var")
        // The affine parameters apply per channel after the batch statistics.
        let affine = batchNorm(
            x, runningMean: Tensor.zeros([2]), runningVar: Tensor.ones([2]), gamma: Tensor([2, 3]), beta: Tensor([1, -1]),
            training: true, eps: 0)
        assertClose(affine.data, zip(y.data, [0, 0, 1, 1, 0, 0, 1, 1]).map { v, c in c == 0 ? v * 2 + 1 : v * 3 - 1 }, "affine batchNorm")
        // Eval uses the running statistics.
        let e = batchNorm(
            Tensor([1, 2], shape: [1, 2, 1, 1]), runningMean: Tensor([1, 0]), runningVar: Tensor([4, 0.25]),
            gamma: Tensor([1, 2]), beta: Tensor([0, 1]), training: false, eps: 0)
        assertClose(e.data, [0, 9], "eval batchNorm")
    }
}
