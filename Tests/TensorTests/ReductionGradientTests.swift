import Foundation
import XCTest

@testable import Tensor

/// Gradient and value checks of `Sources/Tensor/Ops/Reduction.swift` (helpers in GradientCheckInputs.swift).
final class ReductionGradientTests: XCTestCase {
    // MARK: - Reductions

    func testReductions() {
        let x = tensor([2, 3, 4], seed: 320)
        checkGradients("sum()", inputs: [x]) { $0[0].sum() }
        checkGradients("mean()", inputs: [x]) { $0[0].mean() }
        for axis in [0, 1, 2, -1] {
            checkGradients("sum(axis: \(axis))", inputs: [x]) { $0[0].sum(axis: axis) }
            checkGradients("sum(axis: \(axis), keepDims)", inputs: [x]) { $0[0].sum(axis: axis, keepDims: true) }
            checkGradients("mean(axis: \(axis))", inputs: [x]) { $0[0].mean(axis: axis) }
        }
        checkGradients("sum(axes: [0, 2])", inputs: [x]) { $0[0].sum(axes: [0, 2]) }
        checkGradients("sum(axes: [2, 0], keepDims)", inputs: [x]) { $0[0].sum(axes: [2, 0], keepDims: true) }
        checkGradients("sum(axes: [-1, 1])", inputs: [x]) { $0[0].sum(axes: [-1, 1]) }
        checkGradients("mean(axes: [1, 2])", inputs: [x]) { $0[0].mean(axes: [1, 2]) }
        checkGradients("mean(axes: [0, -1], keepDims)", inputs: [x]) { $0[0].mean(axes: [0, -1], keepDims: true) }
        let d = distinct([2, 3, 4], seed: 321)
        for axis in [0, 1, 2, -1] {
            checkGradients("max(axis: \(axis))", inputs: [d]) { $0[0].max(axis: axis) }
        }
        checkGradients("max(axis: 1, keepDims)", inputs: [d]) { $0[0].max(axis: 1, keepDims: true) }
        // Broadcasting a keepDims reduction back (softmax-style centring).
        checkGradients("x - max(keepDims)", inputs: [d]) { $0[0] - $0[0].max(axis: -1, keepDims: true) }
        checkGradients("x / sum(keepDims)", inputs: [tensor([2, 3, 4], seed: 322, low: 0.5, high: 1.5)]) {
            $0[0] / $0[0].sum(axis: 1, keepDims: true)
        }
    }

    func testReductionValues() {
        let x = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
        XCTAssertEqual(x.sum().item, 276)
        XCTAssertEqual(x.mean().item, 11.5)
        XCTAssertEqual(x.sum().shape, [])
        XCTAssertEqual(x.sum(axis: 1).shape, [2, 4])
        XCTAssertEqual(x.sum(axis: 1).data, [12, 15, 18, 21, 48, 51, 54, 57])
        XCTAssertEqual(x.sum(axis: -1, keepDims: true).shape, [2, 3, 1])
        XCTAssertEqual(x.sum(axis: -1, keepDims: true).data, [6, 22, 38, 54, 70, 86])
        XCTAssertEqual(x.sum(axes: [0, 2]).data, [60, 92, 124])
        XCTAssertEqual(x.sum(axes: [0, 2], keepDims: true).shape, [1, 3, 1])
        XCTAssertEqual(x.mean(axis: 0).data, (12..<24).map { Float($0) - 6 })
        XCTAssertEqual(x.mean(axes: [1, 2]).data, [5.5, 17.5])
        XCTAssertEqual(x.max(axis: 1).data, [8, 9, 10, 11, 20, 21, 22, 23])
        let (values, indices) = Tensor([3, 1, 7, 7, 2, 9], shape: [2, 3]).maxWithIndices(axis: 1)
        XCTAssertEqual(values.data, [7, 9])
        XCTAssertEqual(indices, [2, 2])
        XCTAssertEqual(Tensor([3, 1, 7, 7, 2, 9], shape: [2, 3]).argmaxLastAxis(), [2, 2])
    }
}
