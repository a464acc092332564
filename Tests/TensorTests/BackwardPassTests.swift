import Foundation
import XCTest

@testable import Tensor

/// Gradient and value checks of `Sources/Tensor/Core/Autograd.swift` (helpers in GradientCheckInputs.swift).
final class BackwardPassTests: XCTestCase {
    // MARK: - Parallel kernels and the backward pass

    /// Kernels split work across threads only above 2^16 elements, far beyond what the finite
    /// difference checks above use. Run the large-tensor paths with one thread and with several and
    /// require the same values and gradients (the single-thread path is the one checked above).
    func testParallelKernelsMatchSingleThread() {
        let saved = Threads.count
        defer { Threads.set(saved) }
        let a = tensor([512, 256], seed: 480), b = tensor([512, 256], seed: 481, low: 0.5, high: 1.5)
        let img = tensor([1, 8, 64, 64], seed: 482), w = tensor([4, 8, 3, 3], seed: 483)
        let img16 = tensor([1, 16, 64, 64], seed: 484), w16 = tensor([4, 16, 3, 3], seed: 485)
        let ops: [(String, [Tensor], ([Tensor]) -> Tensor)] = [
            ("mul", [a, b], { $0[0] * $0[1] }),
            ("div", [a, b], { $0[0] / $0[1] }),
            ("gelu", [a], { $0[0].gelu() }),
            ("softmax -1", [a], { $0[0].softmax(axis: -1) }),
            ("softmax 0", [a], { $0[0].softmax(axis: 0) }),
            ("logSoftmax -1", [a], { $0[0].logSoftmax(axis: -1) }),
            ("normalizeChunks", [a], { $0[0].normalizeChunks(256, eps: 1e-5) }),
            ("normalizeChunks unbiased", [a], { $0[0].normalizeChunks(256, eps: 1e-6, variant: .unbiasedStd) }),
            ("conv2d", [img, w], { conv2d($0[0], weight: $0[1], bias: nil, Conv2dGeometry(kernel: 3, padding: 1)) }),
            ("conv2d stride 2", [img16, w16], { conv2d($0[0], weight: $0[1], bias: nil, Conv2dGeometry(kernel: 3, stride: 2, padding: 1)) })
        ]
        // Backward seeds, fixed per op (a cheap hash pattern in [-1, 1]).
        let seeds: [[Float]] = withNoGrad {
            ops.map { _, inputs, f in (0..<f(inputs).count).map { Float(($0 &* 7919) % 2001) / 1000 - 1 } }
        }
        func run(threads: Int) -> [[Float]] {
            Threads.set(threads)
            var results: [[Float]] = []
            for (k, (_, inputs, f)) in ops.enumerated() {
                for t in inputs { t.requiresGrad = true; t.grad = nil }
                let y = f(inputs)
                y.backward(seed: seeds[k])
                results.append(y.data)
                for t in inputs { results.append(t.grad ?? []) }
            }
            return results
        }
        /// Largest |a - b| / max(1, |b_i|, max|b| / 10), with a pointer loop (these arrays are large): sums
        /// split over threads (a convolution's weight gradient over the batch) differ by rounding at
        /// the scale of the largest values, not of each small one.
        func maxError(_ a: [Float], _ b: [Float]) -> Float {
            guard a.count == b.count else { return .infinity }
            let scale = (b.map(Swift.abs).max() ?? 0) / 10
            return a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    var worst: Float = 0
                    for i in 0..<pa.count {
                        let e = Swift.abs(pa[i] - pb[i]) / Swift.max(1, Swift.abs(pb[i]), scale)
                        if !(e <= worst) { worst = e }
                    }
                    return worst
                }
            }
        }
        let serial = run(threads: 1)
        let parallel = run(threads: 4)
        var k = 0
        for (name, inputs, _) in ops {
            XCTAssertLessThanOrEqual(maxError(parallel[k], serial[k]), 1e-5, "\(name) output")
            for i in 0..<inputs.count {
                XCTAssertFalse(serial[k + 1 + i].isEmpty, "\(name) gradient \(i) missing")
                XCTAssertLessThanOrEqual(maxError(parallel[k + 1 + i], serial[k + 1 + i]), 1e-5, "\(name) gradient \(i)")
            }
            k += 1 + inputs.count
        }
    }

    /// An empty batch (no images, no RoIs) must give zero weight gradients, not an uninitialised
    /// gradient buffer that no GEMM ever wrote (conv2d, and matmul(transposeA:) with a shared 2-D b).
    func testEmptyBatchGivesZeroWeightGradients() {
        let w = tensor([4, 2, 3, 3], seed: 490)
        w.requiresGrad = true
        let x = Tensor.zeros([0, 2, 5, 5], requiresGrad: true)
        conv2d(x, weight: w, bias: nil, Conv2dGeometry(kernel: 3)).sum().backward()
        XCTAssertEqual(w.grad ?? [], [Float](repeating: 0, count: w.count), "conv2d weight gradient")
        let b = tensor([4, 5], seed: 491)
        b.requiresGrad = true
        Tensor.matmul(Tensor.zeros([0, 4, 3], requiresGrad: true), b, transposeA: true).sum().backward()
        XCTAssertEqual(b.grad ?? [], [Float](repeating: 0, count: b.count), "matmul shared b gradient")
    }

    func testBackwardAccumulatesAcrossCallsAndBranches() {
        let x = Tensor([1, 2, 3], requiresGrad: true)
        (x * x).sum().backward()
        XCTAssertEqual(x.grad!, [2, 4, 6])
        (x * 3).sum().backward()  // leaf gradients accumulate across backward calls
        XCTAssertEqual(x.grad!, [5, 7, 9])
        x.zeroGrad()
        // A diamond: y feeds two branches that meet again.
        let y = x.exp()
        (y * 2 + y.sqrt()).sum().backward()
        let expected = x.data.map { 2 * Foundation.exp($0) + 0.5 * Foundation.exp($0 / 2) }
        assertClose(x.grad!, expected, tol: 1e-5, "diamond")
        // No graph is recorded without gradients.
        let z = withNoGrad { x * 2 }
        XCTAssertFalse(z.requiresGrad)
        let c = Tensor([1, 2, 3]) * 2
        XCTAssertFalse(c.requiresGrad)
    }
}
