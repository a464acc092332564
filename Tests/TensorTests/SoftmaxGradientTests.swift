import Foundation
import XCTest

@testable import Tensor

/// Gradient and value checks of `Sources/Tensor/Ops/Softmax.swift` (helpers in GradientCheckInputs.swift).
final class SoftmaxGradientTests: XCTestCase {
    // MARK: - Softmax

    func testSoftmaxAndLogSoftmax() {
        let x = tensor([3, 4, 5], seed: 250, low: -2, high: 2)
        for axis in [0, 1, 2, -1, -2] {
            checkGradients("softmax axis \(axis)", inputs: [x]) { $0[0].softmax(axis: axis) }
            checkGradients("logSoftmax axis \(axis)", inputs: [x]) { $0[0].logSoftmax(axis: axis) }
        }
        // Large logits stay stable.
        let big = tensor([2, 6], seed: 251, low: -40, high: 40)
        checkGradients("softmax large logits", inputs: [big], eps: 1e-2) { $0[0].softmax(axis: -1) }
        checkGradients("logSoftmax large logits", inputs: [big]) { $0[0].logSoftmax(axis: -1) }
    }

    func testSoftmaxValues() {
        assertClose(Tensor([1, 2, 3]).softmax().data, [0.09003057, 0.24472847, 0.66524096], "softmax [1,2,3]")
        assertClose(Tensor([1, 2, 3]).logSoftmax().data, [-2.40760596, -1.40760596, -0.40760596], "logSoftmax [1,2,3]")
        // Along axis 0 of a [2, 2]: columns.
        assertClose(Tensor([0, 1, 0, 3], shape: [2, 2]).softmax(axis: 0).data, [0.5, 0.11920292, 0.5, 0.88079708], "softmax axis 0")
        // Along the middle axis of [1, 3, 2].
        let m = Tensor([1, 0, 2, 0, 3, 0], shape: [1, 3, 2]).softmax(axis: 1)
        assertClose(m.data, [0.09003057, 1.0 / 3, 0.24472847, 1.0 / 3, 0.66524096, 1.0 / 3], "softmax middle axis")
        // Shift invariance and huge values.
        assertClose(Tensor([1001, 1002, 1003]).softmax().data, [0.09003057, 0.24472847, 0.66524096], "softmax shifted")
        // A fully masked row gives zeros, a partly masked row renormalises.
        let masked = Tensor([-.infinity, -.infinity, 0, -.infinity], shape: [2, 2]).softmax()
        XCTAssertEqual(masked.data, [0, 0, 1, 0])
    }
}
