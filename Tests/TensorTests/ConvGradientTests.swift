import Foundation
import XCTest

@testable import Tensor

/// Gradient and value checks of `Sources/Tensor/Ops/Conv.swift` (helpers in GradientCheckInputs.swift).
final class ConvGradientTests: XCTestCase {
    // MARK: - Convolution

    func testConv2dGradients() {
        let x = tensor([2, 3, 6, 7], seed: 120)
        let bias = tensor([4], seed: 121)
        let cases: [(String, Conv2dGeometry, Bool)] = [
            ("3x3", Conv2dGeometry(kernel: 3), true),
            ("3x3 stride 2 padding 1", Conv2dGeometry(kernel: 3, stride: 2, padding: 1), false),
            ("3x3 dilation 2 padding 2", Conv2dGeometry(kernel: 3, padding: 2, dilation: 2), true),
            ("2x3 stride (1,2) padding (1,0)", Conv2dGeometry(kernel: (2, 3), stride: (1, 2), padding: (1, 0)), true),
            ("2x3 stride (1,2) padding (1,0) no bias", Conv2dGeometry(kernel: (2, 3), stride: (1, 2), padding: (1, 0)), false),
            ("1x1", Conv2dGeometry(kernel: 1), true),
            ("3x3 stride 2 padding 1 dilation 2", Conv2dGeometry(kernel: 3, stride: 2, padding: 1, dilation: 2), true),
            ("2x2 padding 2", Conv2dGeometry(kernel: 2, padding: 2), false),
            (
                "3x2 stride (2,1) padding (0,1) dilation (1,2)",
                Conv2dGeometry(kernel: (3, 2), stride: (2, 1), padding: (0, 1), dilation: (1, 2)), true
            ),
            // Stride 1 with unequal kernel, padding and dilation per axis (the transposed-convolution
            // input gradient), and one whose padding exceeds d(k-1) on one axis (the col2im fallback).
            ("2x3 stride 1 padding (1,0) dilation (2,1)", Conv2dGeometry(kernel: (2, 3), stride: (1, 1), padding: (1, 0), dilation: (2, 1)), true),
            ("3x1 stride 1 padding (1,1)", Conv2dGeometry(kernel: (3, 1), stride: (1, 1), padding: (1, 1)), false)
        ]
        for (k, (name, g, withBias)) in cases.enumerated() {
            let w = tensor([4, 3, g.kernel.h, g.kernel.w], seed: 130 + UInt64(k))
            if withBias {
                checkGradients("conv2d \(name)", inputs: [x, w, bias]) { conv2d($0[0], weight: $0[1], bias: $0[2], g) }
            } else {
                checkGradients("conv2d \(name)", inputs: [x, w]) { conv2d($0[0], weight: $0[1], bias: nil, g) }
            }
        }
        // The same input convolved twice (x's gradient accumulates across two col2im passes).
        let w1 = tensor([2, 3, 3, 3], seed: 140), w2 = tensor([2, 3, 1, 1], seed: 141)
        checkGradients("conv2d twice", inputs: [tensor([1, 3, 4, 5], seed: 142), w1, w2]) {
            conv2d($0[0], weight: $0[1], bias: nil, Conv2dGeometry(kernel: 3, padding: 1))
                + conv2d($0[0], weight: $0[2], bias: nil, Conv2dGeometry(kernel: 1))
        }
    }

    /// A convolution whose GEMMs exceed the small-GEMM cut-off (o * l * ckk = 8 * 100 * 36), so the
    /// forward and all three backward products run through OpenBLAS.
    func testConv2dBLASSized() {
        let x = tensor([2, 4, 10, 10], seed: 143), w = tensor([8, 4, 3, 3], seed: 144), b = tensor([8], seed: 145)
        let g = Conv2dGeometry(kernel: 3, padding: 1)
        let ref = naiveConv2d(x, w, b, g)
        assertClose(conv2d(x, weight: w, bias: b, g).data, ref.data, tol: 1e-5, "BLAS-sized conv2d")
        checkGradients("BLAS-sized conv2d", inputs: [x, w, b]) { conv2d($0[0], weight: $0[1], bias: $0[2], g) }
        let x2 = tensor([1, 8, 12, 12], seed: 146), w2 = tensor([16, 8, 3, 3], seed: 147)
        let g2 = Conv2dGeometry(kernel: 3, stride: 2, padding: 1)  // 16 * 36 * 72 multiply-adds per product
        assertClose(conv2d(x2, weight: w2, bias: nil, g2).data, naiveConv2d(x2, w2, nil, g2).data, tol: 1e-5, "BLAS-sized strided conv2d")
        checkGradients("BLAS-sized strided conv2d", inputs: [x2, w2]) { conv2d($0[0], weight: $0[1], bias: nil, g2) }
    }

    func testConv2dHandWorked() {
        // x = 1...9 in a 3x3, weight [[1,2],[3,4]], bias 1.
        let x = Tensor((1...9).map(Float.init), shape: [1, 1, 3, 3])
        let w = Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2])
        let y = conv2d(x, weight: w, bias: Tensor([1]), Conv2dGeometry(kernel: 2))
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        XCTAssertEqual(y.data, [38, 48, 68, 78])
        // A 3x3 box filter with padding 1 and stride 2: sums of the 2x2 corners around (0,0), (0,2), (2,0), (2,2).
        let box = conv2d(x, weight: Tensor.ones([1, 1, 3, 3]), bias: nil, Conv2dGeometry(kernel: 3, stride: 2, padding: 1))
        XCTAssertEqual(box.shape, [1, 1, 2, 2])
        XCTAssertEqual(box.data, [12, 16, 24, 28])
        // Dilation 2 on a 3x3 kernel of ones over a 5x5 ramp touches the 9 even positions.
        let ramp = Tensor((0..<25).map(Float.init), shape: [1, 1, 5, 5])
        let dil = conv2d(ramp, weight: Tensor.ones([1, 1, 3, 3]), bias: nil, Conv2dGeometry(kernel: 3, dilation: 2))
        XCTAssertEqual(dil.shape, [1, 1, 1, 1])
        XCTAssertEqual(dil.data, [0 + 2 + 4 + 10 + 12 + 14 + 20 + 22 + 24])
        // Two output channels: the second is the negated first, the bias is per channel.
        let two = conv2d(x, weight: Tensor([1, 2, 3, 4, -1, -2, -3, -4], shape: [2, 1, 2, 2]), bias: Tensor([0, 10]), Conv2dGeometry(kernel: 2))
        XCTAssertEqual(two.data, [37, 47, 67, 77, -27, -37, -57, -67])
    }

    func testConv2dMatchesDirectConvolution() {
        let x = tensor([2, 3, 6, 7], seed: 150)
        let b = tensor([4], seed: 151)
        let geometries = [
            Conv2dGeometry(kernel: 3), Conv2dGeometry(kernel: 3, stride: 2, padding: 1),
            Conv2dGeometry(kernel: 3, padding: 2, dilation: 2), Conv2dGeometry(kernel: (2, 3), stride: (1, 2), padding: (1, 0)),
            Conv2dGeometry(kernel: 1, stride: 2), Conv2dGeometry(kernel: 2, padding: 2),
            Conv2dGeometry(kernel: (3, 2), stride: (2, 3), padding: (2, 1), dilation: (2, 1)),
            Conv2dGeometry(kernel: (2, 3), stride: (1, 1), padding: (1, 0), dilation: (2, 1)),
            Conv2dGeometry(kernel: (3, 1), stride: (1, 1), padding: (1, 1))
        ]
        for (k, g) in geometries.enumerated() {
            let w = tensor([4, 3, g.kernel.h, g.kernel.w], seed: 160 + UInt64(k))
            for bias in [b, nil] {
                let y = conv2d(x, weight: w, bias: bias, g)
                let ref = naiveConv2d(x, w, bias, g)
                XCTAssertEqual(y.shape, ref.shape, "geometry \(k)")
                assertClose(y.data, ref.data, tol: 1e-5, "conv2d geometry \(k) bias \(bias != nil)")
            }
        }
    }
}
