import Foundation
import XCTest

@testable import Tensor

/// Gradient and value checks of `Sources/Tensor/Ops/Pooling.swift` (helpers in GradientCheckInputs.swift).
final class PoolingGradientTests: XCTestCase {
    // MARK: - Pooling and resampling

    func testMaxPool2d() {
        let x = distinct([2, 2, 5, 6], seed: 170)
        checkGradients("maxPool 2x2 stride 2", inputs: [x]) { $0[0].maxPool2d(Conv2dGeometry(kernel: 2, stride: 2)) }
        checkGradients("maxPool 3x3 stride 2 padding 1", inputs: [x]) { $0[0].maxPool2d(Conv2dGeometry(kernel: 3, stride: 2, padding: 1)) }
        checkGradients("maxPool 3x3 stride 1 (overlapping)", inputs: [x]) { $0[0].maxPool2d(Conv2dGeometry(kernel: 3)) }
        checkGradients("maxPool 2x2 dilation 2", inputs: [x]) { $0[0].maxPool2d(Conv2dGeometry(kernel: 2, dilation: 2)) }
        checkGradients("maxPool 2x3 stride (1,2) padding (1,0)", inputs: [x]) {
            $0[0].maxPool2d(Conv2dGeometry(kernel: (2, 3), stride: (1, 2), padding: (1, 0)))
        }
    }

    func testMaxPool2dValues() {
        let x = Tensor(
            [
                1, 5, 2, 0,
                3, 4, 8, 7,
                -1, -2, -3, -4,
                6, -5, 9, 2
            ], shape: [1, 1, 4, 4], requiresGrad: true)
        let y = x.maxPool2d(Conv2dGeometry(kernel: 2, stride: 2))
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        XCTAssertEqual(y.data, [5, 8, 6, 9])
        // Padding never wins, even against negative values.
        let neg = Tensor([-3, -1, -2, -4], shape: [1, 1, 2, 2]).maxPool2d(Conv2dGeometry(kernel: 2, stride: 1, padding: 1))
        XCTAssertEqual(neg.shape, [1, 1, 3, 3])
        XCTAssertEqual(neg.data, [-3, -1, -1, -2, -1, -1, -2, -2, -4])
        // The gradient goes to the winners only.
        y.backward(seed: [1, 2, 3, 4])
        XCTAssertEqual(x.grad!, [0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0])
    }

    func testAvgPool2d() {
        let x = tensor([2, 2, 5, 6], seed: 180)
        checkGradients("avgPool 2x2 stride 2", inputs: [x]) { $0[0].avgPool2d(Conv2dGeometry(kernel: 2, stride: 2)) }
        checkGradients("avgPool 3x3 stride 2 padding 1", inputs: [x]) { $0[0].avgPool2d(Conv2dGeometry(kernel: 3, stride: 2, padding: 1)) }
        checkGradients("avgPool 3x3 stride 1 padding 1", inputs: [x]) { $0[0].avgPool2d(Conv2dGeometry(kernel: 3, stride: 1, padding: 1)) }
        checkGradients("avgPool 2x3 stride (1,2) padding (1,0)", inputs: [x]) {
            $0[0].avgPool2d(Conv2dGeometry(kernel: (2, 3), stride: (1, 2), padding: (1, 0)))
        }
        // Padding counts as zeros: a 3x3 window with padding 1 over ones gives 4/9 at corners, 6/9 on edges.
        let ones = Tensor.ones([1, 1, 3, 3]).avgPool2d(Conv2dGeometry(kernel: 3, stride: 1, padding: 1))
        assertClose(ones.data, [4, 6, 4, 6, 9, 6, 4, 6, 4].map { $0 / 9 }, "avgPool padded ones")
        let ramp = Tensor((0..<16).map(Float.init), shape: [1, 1, 4, 4]).avgPool2d(Conv2dGeometry(kernel: 2, stride: 2))
        assertClose(ramp.data, [2.5, 4.5, 10.5, 12.5], "avgPool ramp")
    }

    func testAdaptiveAvgPool2d() {
        let x = tensor([2, 2, 5, 7], seed: 190)
        checkGradients("adaptiveAvgPool 5x7 -> 3x2", inputs: [x]) { $0[0].adaptiveAvgPool2d(3, 2) }
        checkGradients("adaptiveAvgPool 5x7 -> 1x1", inputs: [x]) { $0[0].adaptiveAvgPool2d(1, 1) }
        checkGradients("adaptiveAvgPool 5x7 -> 4x5", inputs: [x]) { $0[0].adaptiveAvgPool2d(4, 5) }
        checkGradients("adaptiveAvgPool 5x7 -> 7x9 (overlapping bins)", inputs: [x]) { $0[0].adaptiveAvgPool2d(7, 9) }
        // Rows 5 -> 3: bins [0,2), [1,4), [3,5); columns 7 -> 2: [0,4), [3,7).
        // On the ramp 7y + x each bin averages to 7 * mean(rows) + mean(cols).
        let ramp = Tensor((0..<35).map(Float.init), shape: [1, 1, 5, 7])
        let y = ramp.adaptiveAvgPool2d(3, 2)
        XCTAssertEqual(y.shape, [1, 1, 3, 2])
        assertClose(y.data, [5, 8, 15.5, 18.5, 26, 29], "adaptive bins")
        // Global pooling is the mean.
        assertClose(ramp.adaptiveAvgPool2d(1, 1).data, [17], "global average")
    }

    func testUpsampleNearest() {
        let x = tensor([2, 2, 2, 3], seed: 200)
        checkGradients("upsampleNearest 2x3 -> 5x7", inputs: [x]) { $0[0].upsampleNearest(5, 7) }
        checkGradients("upsampleNearest 2x3 -> 4x6", inputs: [x]) { $0[0].upsampleNearest(4, 6) }
        checkGradients("upsampleNearest scale 2", inputs: [x]) { $0[0].upsampleNearest(scale: 2) }
        checkGradients("upsampleNearest scale 3", inputs: [x]) { $0[0].upsampleNearest(scale: 3) }
        checkGradients("upsampleNearest downsample", inputs: [tensor([1, 2, 5, 6], seed: 201)]) { $0[0].upsampleNearest(2, 4) }
        let small = Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2])
        XCTAssertEqual(small.upsampleNearest(scale: 2).data, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        // PyTorch 'nearest' with 2 -> 3: sources floor(i * 2 / 3) = 0, 0, 1.
        XCTAssertEqual(small.upsampleNearest(3, 3).data, [1, 1, 2, 1, 1, 2, 3, 3, 4])
    }
}
