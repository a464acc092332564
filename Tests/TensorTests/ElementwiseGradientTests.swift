import Foundation
import XCTest

@testable import Tensor

/// Gradient and value checks of `Sources/Tensor/Ops/Elementwise.swift` (helpers in GradientCheckInputs.swift).
final class ElementwiseGradientTests: XCTestCase {
    // MARK: - Elementwise binary ops with broadcasting

    func testBinaryOpsWithBroadcasting() {
        let a = tensor([2, 3, 4], seed: 1)
        // Second operands of several broadcast shapes; kept positive and away from 0 for division.
        let shapes: [[Int]] = [[2, 3, 4], [3, 1], [4], [], [1], [2, 1, 4], [1, 3, 1]]
        for (k, shape) in shapes.enumerated() {
            let b = tensor(shape, seed: 10 + UInt64(k), low: 0.5, high: 1.5)
            checkGradients("add \(a.shape)+\(shape)", inputs: [a, b]) { $0[0] + $0[1] }
            checkGradients("sub \(a.shape)-\(shape)", inputs: [a, b]) { $0[0] - $0[1] }
            checkGradients("sub \(shape)-\(a.shape)", inputs: [b, a]) { $0[0] - $0[1] }
            checkGradients("mul \(a.shape)*\(shape)", inputs: [a, b]) { $0[0] * $0[1] }
            checkGradients("mul \(shape)*\(a.shape)", inputs: [b, a]) { $0[0] * $0[1] }
            checkGradients("div \(a.shape)/\(shape)", inputs: [a, b]) { $0[0] / $0[1] }
        }
        // Both operands broadcast ([2,1,4] with [3,1] -> [2,3,4]) and division by a broadcast tensor.
        let p = tensor([2, 1, 4], seed: 20), q = tensor([3, 1], seed: 21, low: 0.5, high: 2)
        checkGradients("add both broadcast", inputs: [p, q]) { $0[0] + $0[1] }
        checkGradients("mul both broadcast", inputs: [p, q]) { $0[0] * $0[1] }
        checkGradients("div both broadcast", inputs: [p, q]) { $0[0] / $0[1] }
        let pos = tensor([2, 3, 4], seed: 22, low: 0.5, high: 1.5)
        checkGradients("div [3,1]/[2,3,4]", inputs: [q, pos]) { $0[0] / $0[1] }
        // Scalar-shaped with scalar-shaped.
        let s1 = tensor([], seed: 23), s2 = tensor([], seed: 24, low: 0.5, high: 1)
        checkGradients("div []/[]", inputs: [s1, s2]) { $0[0] / $0[1] }
        checkGradients("mul [1]*[]", inputs: [tensor([1], seed: 25), s2]) { $0[0] * $0[1] }
        // The same tensor on both sides (gradients from both operands accumulate).
        checkGradients("x*x", inputs: [a]) { $0[0] * $0[0] }
        checkGradients("x/x broadcast", inputs: [pos, q]) { ($0[0] + $0[1]) / ($0[1] * $0[1]) }
    }

    func testBinaryBroadcastValues() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual((a + Tensor([10, 20, 30], shape: [3])).data, [11, 22, 33, 14, 25, 36])
        XCTAssertEqual((a * Tensor([2, 3], shape: [2, 1])).data, [2, 4, 6, 12, 15, 18])
        XCTAssertEqual((Tensor([1, 2], shape: [2, 1]) - Tensor([10, 20, 30], shape: [1, 3])).shape, [2, 3])
        XCTAssertEqual((Tensor([1, 2], shape: [2, 1]) - Tensor([10, 20, 30], shape: [1, 3])).data, [-9, -19, -29, -8, -18, -28])
        XCTAssertEqual((a / Tensor(scalar: 2)).data, [0.5, 1, 1.5, 2, 2.5, 3])
        XCTAssertEqual((a - Tensor([1], shape: [1])).shape, [2, 3])
        XCTAssertEqual((2 - a).data, [1, 0, -1, -2, -3, -4])
        XCTAssertEqual((a / 2).data, [0.5, 1, 1.5, 2, 2.5, 3])
        XCTAssertEqual((-a).data, [-1, -2, -3, -4, -5, -6])
        XCTAssertEqual(Tensor.maximum(a, Tensor([3.5], shape: [1])).data, [3.5, 3.5, 3.5, 4, 5, 6])
        XCTAssertEqual(Tensor.minimum(a, Tensor([2, 4, 6], shape: [3])).data, [1, 2, 3, 2, 4, 6])
    }

    func testMaximumMinimum() {
        // b is drawn freely; a = b (broadcast) + an offset of 0.1...0.6 in magnitude with a random sign.
        let b = tensor([4], seed: 30)
        let rng = RandomGenerator(seed: 31)
        let aData = (0..<24).map { i -> Float in
            let off = rng.uniform(0.1, 0.6)
            return b.data[i % 4] + (rng.uniform() < 0.5 ? -off : off)
        }
        let a = Tensor(aData, shape: [2, 3, 4])
        checkGradients("maximum broadcast", inputs: [a, b]) { Tensor.maximum($0[0], $0[1]) }
        checkGradients("minimum broadcast", inputs: [a, b]) { Tensor.minimum($0[0], $0[1]) }
        checkGradients("maximum broadcast (b first)", inputs: [b, a]) { Tensor.maximum($0[0], $0[1]) }
        checkGradients("minimum broadcast (b first)", inputs: [b, a]) { Tensor.minimum($0[0], $0[1]) }
        let c = Tensor(a.data.map { $0 + (rng.uniform() < 0.5 ? -0.3 : 0.3) }, shape: [2, 3, 4])
        checkGradients("maximum same shape", inputs: [a, c]) { Tensor.maximum($0[0], $0[1]) }
        checkGradients("minimum same shape", inputs: [a, c]) { Tensor.minimum($0[0], $0[1]) }
    }

    func testScalarOps() {
        let x = tensor([3, 4], seed: 40)
        let cases: [(String, (Tensor) -> Tensor)] = [
            ("t + 2", { $0 + 2 }), ("2 + t", { 2 + $0 }), ("t - 1.5", { $0 - 1.5 }), ("2 - t", { 2 - $0 }),
            ("3 * t", { 3 * $0 }), ("t * -0.5", { $0 * -0.5 }), ("t / 2", { $0 / 2 }), ("-t", { -$0 })
        ]
        for (name, op) in cases {
            checkGradients(name, inputs: [x]) { op($0[0]) }
        }
    }

    // MARK: - Unary maps

    func testUnaryOps() {
        let x = tensor([3, 5], seed: 50, low: -2, high: 2)
        let positive = tensor([3, 5], seed: 51, low: 0.5, high: 2)
        let offZero = tensor([3, 5], seed: 52, low: -1.5, high: 1.5, avoiding: [0])
        let offClamp = tensor([3, 5], seed: 53, low: -1, high: 1, avoiding: [-0.4, 0.6])
        let wide = tensor([4, 5], seed: 54, low: -8, high: 8)
        checkGradients("exp", inputs: [x]) { $0[0].exp() }
        checkGradients("log", inputs: [positive]) { $0[0].log() }
        checkGradients("sqrt", inputs: [positive]) { $0[0].sqrt() }
        checkGradients("pow(3)", inputs: [positive]) { $0[0].pow(3) }
        checkGradients("pow(0.5)", inputs: [positive]) { $0[0].pow(0.5) }
        checkGradients("pow(-1)", inputs: [positive]) { $0[0].pow(-1) }
        checkGradients("pow(2) on signed values", inputs: [x]) { $0[0].pow(2) }
        checkGradients("abs", inputs: [offZero]) { $0[0].abs() }
        checkGradients("relu", inputs: [offZero]) { $0[0].relu() }
        checkGradients("clamp(min:max:)", inputs: [offClamp]) { $0[0].clamp(min: -0.4, max: 0.6) }
        checkGradients("clamp(min:)", inputs: [offClamp]) { $0[0].clamp(min: -0.4) }
        checkGradients("clamp(max:)", inputs: [offClamp]) { $0[0].clamp(max: 0.6) }
        checkGradients("tanh", inputs: [x]) { $0[0].tanh() }
        checkGradients("sigmoid", inputs: [x]) { $0[0].sigmoid() }
        checkGradients("sigmoid wide", inputs: [wide]) { $0[0].sigmoid() }
        checkGradients("softplus", inputs: [x]) { $0[0].softplus() }
        checkGradients("softplus wide", inputs: [wide]) { $0[0].softplus() }
        checkGradients("gelu", inputs: [x]) { $0[0].gelu() }
        checkGradients("gelu wide", inputs: [wide]) { $0[0].gelu() }
    }

    func testUnaryValues() {
        let x = Tensor([-2, -0.5, 0, 0.5, 3])
        assertClose(x.relu().data, [0, 0, 0, 0.5, 3])
        assertClose(x.abs().data, [2, 0.5, 0, 0.5, 3])
        assertClose(x.clamp(min: -1, max: 1).data, [-1, -0.5, 0, 0.5, 1])
        assertClose(x.sigmoid().data, [0.11920292, 0.37754067, 0.5, 0.62245933, 0.95257413])
        assertClose(x.softplus().data, [0.12692801, 0.47407698, 0.69314718, 0.97407698, 3.04858735])
        assertClose(x.gelu().data, [-0.04550026, -0.15426877, 0, 0.34573123, 2.99595031])
        assertClose(Tensor([100, -100]).softplus().data, [100, 0])
        assertClose(Tensor([4, 9]).sqrt().data, [2, 3])
        assertClose(Tensor([2, 3]).pow(3).data, [8, 27])
    }
}
