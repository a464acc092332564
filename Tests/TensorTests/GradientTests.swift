import Foundation
import XCTest
@testable import Tensor

// Finite-difference gradient checks for every differentiable op, loss and layer of the engine,
// plus value tests against results that are easy to work out by hand.
//
// Inputs that pass through a kink (abs, relu, clamp, max, min, pooling argmax, smooth L1) are drawn
// away from it by much more than the finite-difference step (1e-2), so that the central
// difference never straddles the kink.

// MARK: - Input helpers

/// Uniform values in `[low, high)` that stay at least `margin` away from every point in `kinks`.
private func tensor(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1,
                    avoiding kinks: [Float] = [], margin: Float = 0.1) -> Tensor {
    let rng = RandomGenerator(seed: seed)
    var values: [Float] = []
    values.reserveCapacity(shape.elementCount)
    while values.count < shape.elementCount {
        let v = rng.uniform(low, high)
        if kinks.allSatisfy({ Swift.abs(v - $0) >= margin }) { values.append(v) }
    }
    return Tensor(shape: shape, data: values)
}

/// Pairwise distinct values (a shuffled evenly spaced grid `gap` apart, centred on 0), so that a
/// maximum never changes hands under a finite-difference step.
private func distinct(_ shape: [Int], seed: UInt64, gap: Float = 0.05) -> Tensor {
    let n = shape.elementCount
    var values = (0..<n).map { Float($0) * gap - Float(n - 1) * gap / 2 }
    RandomGenerator(seed: seed).shuffle(&values)
    return Tensor(shape: shape, data: values)
}

private func assertClose(_ actual: [Float], _ expected: [Float], tol: Float = 1e-5, _ message: String = "",
                         file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(message): count", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(Swift.abs(a - e) <= tol * Swift.max(1, Swift.abs(e))) {
        XCTFail("\(message): element \(i) is \(a), expected \(e)", file: file, line: line)
        return
    }
}

/// Direct (loop) 2-D convolution, the reference for the im2col implementation.
private func naiveConv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: Conv2dGeometry) -> (shape: [Int], data: [Float]) {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let oh = (h + 2 * g.padding.h - g.dilation.h * (kh - 1) - 1) / g.stride.h + 1
    let ow = (wd + 2 * g.padding.w - g.dilation.w * (kw - 1) - 1) / g.stride.w + 1
    var out = [Float](repeating: 0, count: n * o * oh * ow)
    for i in 0..<n { for f in 0..<o { for y in 0..<oh { for xo in 0..<ow {
        var s: Float = b?.data[f] ?? 0
        for ch in 0..<c { for ki in 0..<kh { for kj in 0..<kw {
            let iy = y * g.stride.h - g.padding.h + ki * g.dilation.h
            let ix = xo * g.stride.w - g.padding.w + kj * g.dilation.w
            guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
            s += x.data[((i * c + ch) * h + iy) * wd + ix] * w.data[((f * c + ch) * kh + ki) * kw + kj]
        } } }
        out[((i * o + f) * oh + y) * ow + xo] = s
    } } } }
    return ([n, o, oh, ow], out)
}

final class GradientTests: XCTestCase {

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
            ("3 * t", { 3 * $0 }), ("t * -0.5", { $0 * -0.5 }), ("t / 2", { $0 / 2 }), ("-t", { -$0 }),
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

    // MARK: - Matrix products

    func testMatmul2DAndTransposes() {
        let (m, k, n) = (3, 4, 5)
        checkGradients("matmul", inputs: [tensor([m, k], seed: 60), tensor([k, n], seed: 61)]) {
            Tensor.matmul($0[0], $0[1])
        }
        checkGradients("matmul tA", inputs: [tensor([k, m], seed: 62), tensor([k, n], seed: 63)]) {
            Tensor.matmul($0[0], $0[1], transposeA: true)
        }
        checkGradients("matmul tB", inputs: [tensor([m, k], seed: 64), tensor([n, k], seed: 65)]) {
            Tensor.matmul($0[0], $0[1], transposeB: true)
        }
        checkGradients("matmul tA tB", inputs: [tensor([k, m], seed: 66), tensor([n, k], seed: 67)]) {
            Tensor.matmul($0[0], $0[1], transposeA: true, transposeB: true)
        }
        checkGradients("x x^T (same tensor twice)", inputs: [tensor([m, k], seed: 68)]) {
            Tensor.matmul($0[0], $0[0], transposeB: true)
        }
        checkGradients("x^T x (same tensor twice)", inputs: [tensor([m, k], seed: 69)]) {
            Tensor.matmul($0[0], $0[0], transposeA: true)
        }
        // Two products into the same inputs: the second backward accumulates (beta = 1).
        checkGradients("a b + a c", inputs: [tensor([m, k], seed: 70), tensor([k, n], seed: 71), tensor([n, k], seed: 72)]) {
            Tensor.matmul($0[0], $0[1]) + Tensor.matmul($0[0], $0[2], transposeB: true)
        }
    }

    func testMatmulTransposeValues() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = Tensor([7, 8, 9, 10, 11, 12], shape: [3, 2])
        XCTAssertEqual(Tensor.matmul(a, b).data, [58, 64, 139, 154])
        // a^T is [3,2]: a^T a = [[17,22,27],[22,29,36],[27,36,45]].
        XCTAssertEqual(Tensor.matmul(a, a, transposeA: true).data, [17, 22, 27, 22, 29, 36, 27, 36, 45])
        // a a^T = [[14, 32], [32, 77]].
        XCTAssertEqual(Tensor.matmul(a, a, transposeB: true).data, [14, 32, 32, 77])
        // b^T a^T = (a b)^T.
        XCTAssertEqual(Tensor.matmul(b, a, transposeA: true, transposeB: true).data, [58, 139, 64, 154])
        // Batched with a shared matrix: each batch entry multiplies on its own.
        let batched = Tensor([1, 2, 3, 4, 5, 6, 6, 5, 4, 3, 2, 1], shape: [2, 2, 3])
        XCTAssertEqual(Tensor.matmul(batched, b).data, [58, 64, 139, 154, 131, 146, 50, 56])
        // Batched, transposeA, shared c: batch entry i is batched[i]^T ([3,2]) times c ([2,2]).
        let c = Tensor([1, 0, 0, 2], shape: [2, 2])
        let direct = Tensor.matmul(batched, c, transposeA: true)
        XCTAssertEqual(direct.shape, [2, 3, 2])
        XCTAssertEqual(direct.data, [1, 8, 2, 10, 3, 12, 6, 6, 5, 4, 4, 2])
    }

    func testMatmulBatched() {
        checkGradients("batched [2,3,4]x[2,4,5]", inputs: [tensor([2, 3, 4], seed: 80), tensor([2, 4, 5], seed: 81)]) {
            Tensor.matmul($0[0], $0[1])
        }
        checkGradients("batched tA", inputs: [tensor([2, 4, 3], seed: 82), tensor([2, 4, 5], seed: 83)]) {
            Tensor.matmul($0[0], $0[1], transposeA: true)
        }
        checkGradients("batched tB", inputs: [tensor([2, 3, 4], seed: 84), tensor([2, 5, 4], seed: 85)]) {
            Tensor.matmul($0[0], $0[1], transposeB: true)
        }
        checkGradients("batched tA tB", inputs: [tensor([2, 4, 3], seed: 86), tensor([2, 5, 4], seed: 87)]) {
            Tensor.matmul($0[0], $0[1], transposeA: true, transposeB: true)
        }
        checkGradients("batched 4-D", inputs: [tensor([2, 2, 3, 4], seed: 88), tensor([2, 2, 4, 3], seed: 89)]) {
            Tensor.matmul($0[0], $0[1])
        }
        // A shared 2-D b: folded into one GEMM when a is not transposed.
        checkGradients("shared weight (folded)", inputs: [tensor([2, 3, 4], seed: 90), tensor([4, 5], seed: 91)]) {
            Tensor.matmul($0[0], $0[1])
        }
        checkGradients("shared weight tB (folded)", inputs: [tensor([2, 3, 4], seed: 92), tensor([5, 4], seed: 93)]) {
            Tensor.matmul($0[0], $0[1], transposeB: true)
        }
        checkGradients("shared 4-D x 2-D (folded)", inputs: [tensor([2, 2, 3, 4], seed: 94), tensor([4, 2], seed: 95)]) {
            Tensor.matmul($0[0], $0[1])
        }
        // A shared 2-D b with a transposed a: one GEMM per batch entry, dB accumulated over the batch.
        checkGradients("shared b, tA", inputs: [tensor([2, 4, 3], seed: 96), tensor([4, 5], seed: 97)]) {
            Tensor.matmul($0[0], $0[1], transposeA: true)
        }
        checkGradients("shared b, tA tB", inputs: [tensor([3, 4, 3], seed: 98), tensor([5, 4], seed: 99)]) {
            Tensor.matmul($0[0], $0[1], transposeA: true, transposeB: true)
        }
        // The shared weight's gradient accumulates onto an earlier one.
        checkGradients("shared b, two products", inputs: [tensor([2, 4, 3], seed: 100), tensor([2, 3, 4], seed: 101), tensor([4, 5], seed: 102)]) {
            Tensor.matmul($0[0], $0[2], transposeA: true) + Tensor.matmul($0[1], $0[2])
        }
    }

    /// Products above the engine's small-GEMM cut-off (m*n*k > 16384) go to OpenBLAS; the ones above
    /// stay in the plain loop. Check the BLAS path too, forward against a direct sum and backward
    /// by finite differences, including the batched and shared-weight layouts.
    func testMatmulBLASSizedProducts() {
        let (m, k, n) = (24, 32, 28)  // m*n*k = 21504
        func naive(_ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool) -> [Float] {
            var out = [Float](repeating: 0, count: m * n)
            for i in 0..<m { for j in 0..<n {
                var s: Double = 0
                for p in 0..<k {
                    let av = ta ? a.data[p * m + i] : a.data[i * k + p]
                    let bv = tb ? b.data[j * k + p] : b.data[p * n + j]
                    s += Double(av) * Double(bv)
                }
                out[i * n + j] = Float(s)
            } }
            return out
        }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = tensor(ta ? [k, m] : [m, k], seed: 103), b = tensor(tb ? [n, k] : [k, n], seed: 104)
            assertClose(Tensor.matmul(a, b, transposeA: ta, transposeB: tb).data, naive(a, b, ta, tb), tol: 1e-4,
                        "BLAS matmul tA \(ta) tB \(tb)")
            checkGradients("BLAS matmul tA \(ta) tB \(tb)", inputs: [a, b]) { Tensor.matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
        }
        // Batched (one GEMM per entry), shared weight folded into one GEMM, shared weight with tA.
        checkGradients("BLAS batched", inputs: [tensor([2, 24, 32], seed: 105), tensor([2, 32, 24], seed: 106)]) {
            Tensor.matmul($0[0], $0[1])
        }
        checkGradients("BLAS shared weight tB (folded)", inputs: [tensor([2, 12, 32], seed: 107), tensor([48, 32], seed: 108)]) {
            linear($0[0], weight: $0[1], bias: nil)
        }
        checkGradients("BLAS shared b, tA", inputs: [tensor([2, 32, 24], seed: 109), tensor([32, 24], seed: 110)]) {
            Tensor.matmul($0[0], $0[1], transposeA: true)
        }
        checkGradients("BLAS-sized linear with bias", inputs: [tensor([2, 12, 32], seed: 113), tensor([48, 32], seed: 114), tensor([48], seed: 115)]) {
            linear($0[0], weight: $0[1], bias: $0[2])
        }
        // A product that is small per batch entry but large once folded.
        checkGradients("folded across the cut-off", inputs: [tensor([8, 8, 16], seed: 111), tensor([16, 20], seed: 112)]) {
            Tensor.matmul($0[0], $0[1])
        }
    }

    func testLinear() {
        let x = tensor([2, 3, 4], seed: 110), w = tensor([5, 4], seed: 111), b = tensor([5], seed: 112)
        checkGradients("linear with bias", inputs: [x, w, b]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        checkGradients("linear without bias", inputs: [x, w]) { linear($0[0], weight: $0[1], bias: nil) }
        checkGradients("linear 2-D", inputs: [tensor([3, 4], seed: 113), w, b]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        checkGradients("linear 1-D input", inputs: [tensor([4], seed: 114), w, b]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        // The same input through two layers, and a linear output reused twice.
        let w2 = tensor([5, 4], seed: 115)
        checkGradients("linear shared input", inputs: [x, w, b, w2]) {
            let h = linear($0[0], weight: $0[1], bias: $0[2])
            return h * linear($0[0], weight: $0[3], bias: $0[2]) + h
        }
        // Only the weight and bias need gradients (frozen input).
        let frozen = tensor([2, 3, 4], seed: 116)
        checkGradients("linear frozen input", inputs: [w, b]) { linear(frozen, weight: $0[0], bias: $0[1]) }
        XCTAssertNil(frozen.grad)
        let y = linear(Tensor([1, 2], shape: [1, 2]), weight: Tensor([1, 0, 0, 1, 1, 1], shape: [3, 2]), bias: Tensor([0.5, 0, -1]))
        XCTAssertEqual(y.shape, [1, 3])
        XCTAssertEqual(y.data, [1.5, 2, 2])
    }

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
            ("3x2 stride (2,1) padding (0,1) dilation (1,2)", Conv2dGeometry(kernel: (3, 2), stride: (2, 1), padding: (0, 1), dilation: (1, 2)), true),
            // Stride 1 with unequal kernel, padding and dilation per axis (the transposed-convolution
            // input gradient), and one whose padding exceeds d(k-1) on one axis (the col2im fallback).
            ("2x3 stride 1 padding (1,0) dilation (2,1)", Conv2dGeometry(kernel: (2, 3), stride: (1, 1), padding: (1, 0), dilation: (2, 1)), true),
            ("3x1 stride 1 padding (1,1)", Conv2dGeometry(kernel: (3, 1), stride: (1, 1), padding: (1, 1)), false),
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
            Conv2dGeometry(kernel: (3, 1), stride: (1, 1), padding: (1, 1)),
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
        let x = Tensor([1, 5, 2, 0,
                        3, 4, 8, 7,
                        -1, -2, -3, -4,
                        6, -5, 9, 2], shape: [1, 1, 4, 4], requiresGrad: true)
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
        let cond = layerNorm(Tensor([1, 2, 3, 4, 1, 2, 3, 4], shape: [2, 1, 4]), gamma: Tensor([1, 1, 1, 1, 2, 2, 2, 2], shape: [2, 1, 4]),
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
        let affine = batchNorm(x, runningMean: Tensor.zeros([2]), runningVar: Tensor.ones([2]), gamma: Tensor([2, 3]), beta: Tensor([1, -1]),
                               training: true, eps: 0)
        assertClose(affine.data, zip(y.data, [0, 0, 1, 1, 0, 0, 1, 1]).map { v, c in c == 0 ? v * 2 + 1 : v * 3 - 1 }, "affine batchNorm")
        // Eval uses the running statistics.
        let e = batchNorm(Tensor([1, 2], shape: [1, 2, 1, 1]), runningMean: Tensor([1, 0]), runningVar: Tensor([4, 0.25]),
                          gamma: Tensor([1, 2]), beta: Tensor([0, 1]), training: false, eps: 0)
        assertClose(e.data, [0, 9], "eval batchNorm")
    }

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

    // MARK: - Indexing, joining and views

    func testEmbedding() {
        let w = tensor([5, 3], seed: 260)
        let ids = [1, 3, 1, 0, 1, 4]
        checkGradients("embedding repeated ids", inputs: [w]) { embedding(ids, shape: [2, 3], weight: $0[0]) }
        let y = embedding(ids, shape: [2, 3], weight: w)
        XCTAssertEqual(y.shape, [2, 3, 3])
        XCTAssertEqual(Array(y.data[0..<3]), Array(w.data[3..<6]))
        XCTAssertEqual(Array(y.data[15..<18]), Array(w.data[12..<15]))
        // Repeated ids accumulate: row 1 appears three times, row 2 never.
        w.grad = nil
        w.requiresGrad = true
        embedding(ids, shape: [6], weight: w).sum().backward()
        XCTAssertEqual(w.grad!, [1, 1, 1, 3, 3, 3, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    }

    func testConcatStackSplitSlice() {
        let a = tensor([2, 1, 3], seed: 270), b = tensor([2, 2, 3], seed: 271), c = tensor([2, 3, 3], seed: 272)
        checkGradients("concat axis 1", inputs: [a, b, c]) { Tensor.concat($0, axis: 1) }
        checkGradients("concat axis -2", inputs: [a, b, c]) { Tensor.concat($0, axis: -2) }
        let d = tensor([1, 2, 3], seed: 273), e = tensor([3, 2, 3], seed: 274)
        checkGradients("concat axis 0", inputs: [d, b, e]) { Tensor.concat($0, axis: 0) }
        let f = tensor([2, 2, 1], seed: 275), g = tensor([2, 2, 4], seed: 276)
        checkGradients("concat axis -1", inputs: [f, b, g]) { Tensor.concat($0, axis: -1) }
        checkGradients("concat the same tensor twice", inputs: [b, f]) { Tensor.concat([$0[0], $0[1], $0[0]], axis: 2) }

        let p = tensor([2, 3], seed: 277), q = tensor([2, 3], seed: 278), r = tensor([2, 3], seed: 279)
        for axis in [0, 1, 2, -1] {
            checkGradients("stack axis \(axis)", inputs: [p, q, r]) { Tensor.stack($0, axis: axis) }
        }

        let x = tensor([2, 4, 3], seed: 280)
        checkGradients("split axis 1, reassembled out of order", inputs: [x]) {
            let parts = $0[0].split([1, 2, 1], axis: 1)
            return Tensor.concat([parts[2], parts[0], parts[1]], axis: 1)
        }
        checkGradients("split middle part only", inputs: [x]) { $0[0].split([1, 2, 1], axis: 1)[1] }
        checkGradients("split axis -1", inputs: [x]) {
            let parts = $0[0].split([2, 1], axis: -1)
            return parts[0] * parts[0] + parts[1]
        }
        checkGradients("slice axis 1", inputs: [x]) { $0[0].slice(axis: 1, 1..<3) }
        checkGradients("slice axis 0", inputs: [x]) { $0[0].slice(axis: 0, 1..<2) }
        checkGradients("slice axis -1", inputs: [x]) { $0[0].slice(axis: -1, 0..<2) }
        checkGradients("two overlapping slices", inputs: [x]) { $0[0].slice(axis: 1, 0..<3) + $0[0].slice(axis: 1, 1..<4) }

        let v = Tensor((0..<12).map(Float.init), shape: [2, 3, 2])
        XCTAssertEqual(v.slice(axis: 1, 1..<3).data, [2, 3, 4, 5, 8, 9, 10, 11])
        XCTAssertEqual(Tensor.concat([Tensor([1, 2], shape: [1, 2]), Tensor([3, 4, 5, 6], shape: [2, 2])], axis: 0).data, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(Tensor.concat([Tensor([1, 2], shape: [2, 1]), Tensor([3, 4, 5, 6], shape: [2, 2])], axis: 1).data, [1, 3, 4, 2, 5, 6])
        let st = Tensor.stack([Tensor([1, 2]), Tensor([3, 4])], axis: 1)
        XCTAssertEqual(st.shape, [2, 2])
        XCTAssertEqual(st.data, [1, 3, 2, 4])
        let sp = v.split([1, 1], axis: 0)
        XCTAssertEqual(sp.map(\.shape), [[1, 3, 2], [1, 3, 2]])
        XCTAssertEqual(sp[1].data, Array(v.data[6..<12]))
    }

    func testIndexSelectAndGather() {
        let x = tensor([2, 3, 4], seed: 290)
        checkGradients("indexSelect axis 1 repeated", inputs: [x]) { $0[0].indexSelect(axis: 1, [2, 0, 2, 1, 2]) }
        checkGradients("indexSelect axis 0 repeated", inputs: [x]) { $0[0].indexSelect(axis: 0, [1, 1, 0]) }
        checkGradients("indexSelect axis -1 subset", inputs: [x]) { $0[0].indexSelect(axis: -1, [3, 0, 3]) }

        let gx = tensor([2, 4, 3], seed: 291)
        let index1 = [0, 3, 3, 1, 1, 1, 2, 0, 3, 2, 2, 0]  // [2, 2, 3] along axis 1
        checkGradients("gather axis 1", inputs: [gx]) { $0[0].gather(axis: 1, index: index1, indexShape: [2, 2, 3]) }
        let index0 = [1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 1]  // [2, 4, 3] along axis 0
        checkGradients("gather axis 0", inputs: [gx]) { $0[0].gather(axis: 0, index: index0, indexShape: [2, 4, 3]) }
        let index2 = [2, 2, 0, 1, 0, 0, 1, 2, 2, 2, 1, 0, 0, 1, 1, 2]  // [2, 4, 2] along the last axis
        checkGradients("gather axis -1", inputs: [gx]) { $0[0].gather(axis: -1, index: index2, indexShape: [2, 4, 2]) }

        // Values: indexSelect picks whole slices; gather follows torch.gather.
        let m = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(m.indexSelect(axis: 1, [2, 0, 2]).data, [3, 1, 3, 6, 4, 6])
        XCTAssertEqual(m.indexSelect(axis: 0, [1, 1, 0]).data, [4, 5, 6, 4, 5, 6, 1, 2, 3])
        let t = Tensor([1, 2, 3, 4], shape: [2, 2])
        XCTAssertEqual(t.gather(axis: 1, index: [0, 0, 1, 0], indexShape: [2, 2]).data, [1, 1, 4, 3])
        XCTAssertEqual(t.gather(axis: 0, index: [1, 0, 0, 1], indexShape: [2, 2]).data, [3, 2, 1, 4])
        let g3 = m.gather(axis: 1, index: [2, 1, 0, 0], indexShape: [2, 2])
        XCTAssertEqual(g3.shape, [2, 2])
        XCTAssertEqual(g3.data, [3, 2, 4, 4])
        // Repeated gathers accumulate into the gradient.
        let src = Tensor([1, 2, 3], shape: [1, 3], requiresGrad: true)
        src.gather(axis: 1, index: [2, 2, 0, 2], indexShape: [1, 4]).sum().backward()
        XCTAssertEqual(src.grad!, [1, 0, 3])
    }

    func testReshapePermuteTransposeUnsqueeze() {
        let x = tensor([2, 3, 4], seed: 300)
        checkGradients("reshaped", inputs: [x]) { $0[0].reshaped([4, -1]) * $0[0].reshaped([4, 6]) }
        checkGradients("permuted [2,0,1]", inputs: [x]) { $0[0].permuted([2, 0, 1]) }
        checkGradients("permuted [1,2,0]", inputs: [x]) { $0[0].permuted([1, 2, 0]) }
        checkGradients("permuted identity", inputs: [x]) { $0[0].permuted([0, 1, 2]) }
        checkGradients("permuted 4-D", inputs: [tensor([2, 3, 2, 2], seed: 301)]) { $0[0].permuted([0, 2, 1, 3]) }
        checkGradients("transposed default", inputs: [x]) { $0[0].transposed() }
        checkGradients("transposed(0, 2)", inputs: [x]) { $0[0].transposed(0, 2) }
        checkGradients("unsqueezed(1)", inputs: [x]) { $0[0].unsqueezed(1) * $0[0].unsqueezed(0) }
        checkGradients("unsqueezed(-1)", inputs: [x]) { $0[0].unsqueezed(-1) }
        let m = Tensor((0..<6).map(Float.init), shape: [2, 3])
        XCTAssertEqual(m.transposed().data, [0, 3, 1, 4, 2, 5])
        XCTAssertEqual(m.unsqueezed(-1).shape, [2, 3, 1])
        XCTAssertEqual(m.unsqueezed(0).shape, [1, 2, 3])
        let p = Tensor((0..<24).map(Float.init), shape: [2, 3, 4]).permuted([2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        XCTAssertEqual(Array(p.data[0..<6]), [0, 4, 8, 12, 16, 20])
        XCTAssertEqual(m.reshaped([3, -1]).shape, [3, 2])
    }

    func testMaskedFill() {
        let x = tensor([2, 3, 4], seed: 310)
        let mask = Tensor([1, 0, 1], shape: [3, 1])
        checkGradients("maskedFill broadcast mask", inputs: [x]) { $0[0].maskedFill(mask, -5) }
        let full = Tensor((0..<24).map { Float($0 % 3 == 0 ? 1 : 0) }, shape: [2, 3, 4])
        checkGradients("maskedFill full mask", inputs: [x]) { $0[0].maskedFill(full, 0) * $0[0] }
        let y = Tensor([1, 2, 3, 4], shape: [2, 2]).maskedFill(Tensor([0, 1], shape: [2]), -1)
        XCTAssertEqual(y.data, [1, -1, 3, -1])
    }

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

    // MARK: - Attention

    func testScaledDotProductAttention() {
        let q = tensor([2, 2, 3, 4], seed: 330), k = tensor([2, 2, 3, 4], seed: 331), v = tensor([2, 2, 3, 4], seed: 332)
        checkGradients("attention", inputs: [q, k, v]) { scaledDotProductAttention($0[0], $0[1], $0[2]) }
        let additive = tensor([3, 3], seed: 333, low: -1, high: 0)
        checkGradients("attention additive mask", inputs: [q, k, v]) { scaledDotProductAttention($0[0], $0[1], $0[2], mask: additive) }
        // A key-padding mask [2,1,1,3] hiding the last key of the second sample.
        let padding = Tensor([0, 0, 0, 0, 0, -1e9], shape: [2, 1, 1, 3])
        checkGradients("attention padding mask", inputs: [q, k, v]) { scaledDotProductAttention($0[0], $0[1], $0[2], mask: padding) }
        checkGradients("attention causal", inputs: [q, k, v]) { scaledDotProductAttention($0[0], $0[1], $0[2], causal: true) }
        checkGradients("attention causal + mask", inputs: [q, k, v]) {
            scaledDotProductAttention($0[0], $0[1], $0[2], mask: additive, causal: true)
        }
        // Fewer queries than keys: the queries are the last positions (a cached prefix stays visible).
        let q2 = tensor([2, 2, 2, 4], seed: 334)
        checkGradients("attention causal Tq < Tk", inputs: [q2, k, v]) { scaledDotProductAttention($0[0], $0[1], $0[2], causal: true) }
        // Cross attention with a different key length.
        let k5 = tensor([2, 2, 5, 4], seed: 335), v5 = tensor([2, 2, 5, 4], seed: 336)
        checkGradients("attention Tk = 5", inputs: [q, k5, v5]) { scaledDotProductAttention($0[0], $0[1], $0[2]) }
    }

    func testAttentionValues() {
        let q = tensor([1, 1, 3, 2], seed: 340), k = tensor([1, 1, 3, 2], seed: 341)
        let v = Tensor([1, 10, 2, 20, 3, 30], shape: [1, 1, 3, 2])
        let causal = scaledDotProductAttention(q, k, v, causal: true)
        // The first query sees only the first key.
        assertClose(Array(causal.data[0..<2]), [1, 10], "causal first row")
        // Identical keys give uniform weights: the output is the mean value row.
        let same = scaledDotProductAttention(q, Tensor.ones([1, 1, 3, 2]), v)
        assertClose(same.data, [2, 20, 2, 20, 2, 20], "uniform attention")
        // A -inf mask on all but one key selects that key.
        let pick = Tensor([-.infinity, 0, -.infinity], shape: [1, 3])
        assertClose(scaledDotProductAttention(q, k, v, mask: pick).data, [2, 20, 2, 20, 2, 20], "masked attention")
        // Causal with fewer queries than keys: the 2 queries sit at positions 1 and 2 of 3, so the
        // first sees keys 0...1 and the last sees every key.
        let q2 = tensor([1, 1, 2, 2], seed: 342)
        let offsetMask = Tensor([0, 0, -.infinity, 0, 0, 0], shape: [2, 3])
        assertClose(scaledDotProductAttention(q2, k, v, causal: true).data,
                    scaledDotProductAttention(q2, k, v, mask: offsetMask).data, "causal Tq < Tk")
        // By hand: q = [1, 0], keys [1, 0] and [0, 1], d = 2: weights softmax([1, 0] / sqrt 2).
        let w0 = 1 / (1 + Foundation.exp(-1 / Float(2).squareRoot()))
        let hand = scaledDotProductAttention(Tensor([1, 0], shape: [1, 2]), Tensor([1, 0, 0, 1], shape: [2, 2]),
                                             Tensor([1, 0, 0, 1], shape: [2, 2]))
        assertClose(hand.data, [w0, 1 - w0], "hand attention")
    }

    // MARK: - Losses

    func testNLLLoss() {
        let lp = tensor([5, 4], seed: 350, low: -3, high: 0)
        let targets = [1, 0, 3, 2, 3]
        for reduction in [Reduction.mean, .sum, .none] {
            checkGradients("nllLoss \(reduction)", inputs: [lp]) { nllLoss($0[0], targets: targets, reduction: reduction) }
            checkGradients("nllLoss ignoreIndex \(reduction)", inputs: [lp]) {
                nllLoss($0[0], targets: [1, -100, 3, 2, -100], ignoreIndex: -100, reduction: reduction)
            }
            checkGradients("nllLoss ignoreIndex = real class \(reduction)", inputs: [lp]) {
                nllLoss($0[0], targets: targets, ignoreIndex: 3, reduction: reduction)
            }
            checkGradients("nllLoss mask \(reduction)", inputs: [lp]) {
                nllLoss($0[0], targets: targets, mask: [1, 0, 0.5, 1, 2], reduction: reduction)
            }
        }
        // Values.
        let l = Tensor([-1, -2, -3, -4, -5, -6], shape: [3, 2])
        XCTAssertEqual(nllLoss(l, targets: [0, 1, 1]).item, (1 + 4 + 6) / 3, accuracy: 1e-6)
        XCTAssertEqual(nllLoss(l, targets: [0, 1, 1], reduction: .sum).item, 11, accuracy: 1e-6)
        XCTAssertEqual(nllLoss(l, targets: [0, 1, 1], reduction: .none).data, [1, 4, 6])
        XCTAssertEqual(nllLoss(l, targets: [0, -1, 1], ignoreIndex: -1).item, (1 + 6) / 2, accuracy: 1e-6)
        // Masked mean divides by the total weight.
        XCTAssertEqual(nllLoss(l, targets: [0, 1, 1], mask: [1, 0, 0.5]).item, (1 + 3) / 1.5, accuracy: 1e-6)
        XCTAssertEqual(nllLoss(l, targets: [0, 1, 1], mask: [0, 0, 0]).item, 0)
    }

    func testCrossEntropy() {
        let logits = tensor([4, 5], seed: 360, low: -2, high: 2)
        let targets = [4, 0, 2, 2]
        checkGradients("crossEntropy mean", inputs: [logits]) { crossEntropy($0[0], targets: targets) }
        checkGradients("crossEntropy sum", inputs: [logits]) { crossEntropy($0[0], targets: targets, reduction: .sum) }
        checkGradients("crossEntropy none", inputs: [logits]) { crossEntropy($0[0], targets: targets, reduction: .none) }
        checkGradients("crossEntropy ignore + mask", inputs: [logits]) {
            crossEntropy($0[0], targets: [4, 0, -1, 2], ignoreIndex: -1, mask: [0.5, 1, 1, 2])
        }
        // log(1 + e + e^2) - 2 for target 2 of [0, 1, 2]; uniform logits give log C.
        let ce = crossEntropy(Tensor([0, 1, 2, 5, 5, 5], shape: [2, 3]), targets: [2, 0], reduction: .none)
        assertClose(ce.data, [0.40760596, 1.09861229], "crossEntropy values")
    }

    func testBCEWithLogits() {
        let logits = tensor([3, 4], seed: 370, low: -4, high: 4)
        let hard = Tensor((0..<12).map { Float($0 % 3 == 0 ? 1 : 0) }, shape: [3, 4])
        let soft = tensor([3, 4], seed: 371, low: 0, high: 1)
        for reduction in [Reduction.mean, .sum, .none] {
            checkGradients("bceWithLogits hard \(reduction)", inputs: [logits]) { bceWithLogits($0[0], targets: hard, reduction: reduction) }
            checkGradients("bceWithLogits soft \(reduction)", inputs: [logits]) { bceWithLogits($0[0], targets: soft, reduction: reduction) }
        }
        let wide = tensor([2, 5], seed: 372, low: -15, high: 15)
        let softWide = tensor([2, 5], seed: 373, low: 0, high: 1)
        checkGradients("bceWithLogits large logits", inputs: [wide]) { bceWithLogits($0[0], targets: softWide) }
        // log 2 at logit 0, stable for large logits.
        let v = bceWithLogits(Tensor([0, 0, 100, -100, 2]), targets: Tensor([1, 0, 1, 1, 0.25]), reduction: .none)
        assertClose(v.data, [0.69314718, 0.69314718, 0, 100, 2 - 0.5 + 0.12692801], tol: 1e-5, "bce values")
    }

    func testSigmoidFocalLoss() {
        let logits = tensor([3, 4], seed: 380, low: -3, high: 3)
        let hard = Tensor((0..<12).map { Float($0 % 4 == 1 ? 1 : 0) }, shape: [3, 4])
        let soft = tensor([3, 4], seed: 381, low: 0, high: 1)
        for reduction in [Reduction.sum, .mean, .none] {
            checkGradients("focal alpha 0.25 \(reduction)", inputs: [logits]) {
                sigmoidFocalLoss($0[0], targets: hard, alpha: 0.25, gamma: 2, reduction: reduction)
            }
        }
        checkGradients("focal alpha -1", inputs: [logits]) { sigmoidFocalLoss($0[0], targets: hard, alpha: -1, gamma: 2) }
        checkGradients("focal soft targets", inputs: [logits]) { sigmoidFocalLoss($0[0], targets: soft, alpha: 0.25, gamma: 2) }
        checkGradients("focal gamma 1.5", inputs: [logits]) { sigmoidFocalLoss($0[0], targets: hard, alpha: 0.5, gamma: 1.5) }
        // gamma 0, no alpha: plain BCE. By hand: x = 0, t = 1: alpha 0.25 * 0.5^2 * log 2.
        let x = tensor([8], seed: 382, low: -3, high: 3), t = Tensor([1, 0, 1, 0, 1, 1, 0, 0])
        assertClose(sigmoidFocalLoss(x, targets: t, alpha: -1, gamma: 0, reduction: .none).data,
                    bceWithLogits(x, targets: t, reduction: .none).data, "focal gamma 0 = bce")
        let one = sigmoidFocalLoss(Tensor([0, 0]), targets: Tensor([1, 0]), alpha: 0.25, gamma: 2, reduction: .none)
        assertClose(one.data, [0.25 * 0.25 * 0.69314718, 0.75 * 0.25 * 0.69314718], "focal by hand")
    }

    func testL1AndSmoothL1() {
        let pred = tensor([3, 4], seed: 390, low: -2, high: 2)
        let diff = tensor([3, 4], seed: 391, low: -2, high: 2, avoiding: [0])
        let target = (pred - diff).detached()
        for reduction in [Reduction.mean, .sum, .none] {
            checkGradients("l1Loss \(reduction)", inputs: [pred, target]) { l1Loss($0[0], $0[1], reduction: reduction) }
        }
        for beta: Float in [1, 0.5] {
            let d = tensor([3, 4], seed: 392, low: -2, high: 2, avoiding: [0, -beta, beta])
            let tgt = (pred - d).detached()
            for reduction in [Reduction.mean, .sum, .none] {
                checkGradients("smoothL1 beta \(beta) \(reduction)", inputs: [pred, tgt]) {
                    smoothL1Loss($0[0], $0[1], beta: beta, reduction: reduction)
                }
            }
        }
        // Values: 0.5 d^2 / beta inside, |d| - beta / 2 outside.
        let p = Tensor([0.5, 2, -3, 0.2]), z = Tensor.zeros([4])
        assertClose(smoothL1Loss(p, z, reduction: .none).data, [0.125, 1.5, 2.5, 0.02], "smoothL1 values")
        assertClose(smoothL1Loss(p, z, beta: 0.4, reduction: .none).data, [0.3, 1.8, 2.8, 0.05], "smoothL1 beta 0.4")
        XCTAssertEqual(l1Loss(p, z).item, 5.7 / 4, accuracy: 1e-6)
        XCTAssertEqual(l1Loss(p, z, reduction: .sum).item, 5.7, accuracy: 1e-6)
    }

    func testGIoULoss() {
        // Pairs: partial overlap, disjoint on both axes, nested, disjoint in x but overlapping in y.
        // Within each pair no two x (or y) coordinates are closer than 0.2.
        let pred = Tensor([0.1, 0.2, 1.3, 1.1,
                           0.0, 0.0, 0.6, 0.5,
                           0.2, 0.3, 1.9, 1.7,
                           0.0, 0.1, 0.5, 1.2], shape: [4, 4])
        let target = Tensor([0.5, 0.4, 1.8, 1.6,
                             1.0, 0.9, 1.7, 1.5,
                             0.6, 0.7, 1.2, 1.3,
                             0.9, 0.4, 1.4, 0.8], shape: [4, 4])
        for reduction in [Reduction.mean, .sum, .none] {
            checkGradients("giouLoss \(reduction)", inputs: [pred, target]) { giouLoss($0[0], $0[1], reduction: reduction) }
        }
        let pred2 = Tensor([2.0, 1.0, 3.5, 4.0], shape: [1, 4]), target2 = Tensor([2.8, 0.3, 4.1, 2.5], shape: [1, 4])
        checkGradients("giouLoss single pair", inputs: [pred2, target2]) { giouLoss($0[0], $0[1]) }

        // Values: identical boxes give 0; [0,0,2,2] vs [1,1,3,3]: iou 1/7, enclosure 9, union 7.
        let same = giouLoss(target, target, reduction: .none)
        assertClose(same.data, [0, 0, 0, 0], tol: 1e-5, "identical boxes")
        let overlap = giouLoss(Tensor([0, 0, 2, 2], shape: [1, 4]), Tensor([1, 1, 3, 3], shape: [1, 4]))
        XCTAssertEqual(overlap.item, 1 - (1.0 / 7 - 2.0 / 9), accuracy: 1e-5)
        // Disjoint [0,0,1,1] vs [2,2,3,3]: iou 0, union 2, enclosure 9 -> 1 + 7/9.
        let disjoint = giouLoss(Tensor([0, 0, 1, 1], shape: [1, 4]), Tensor([2, 2, 3, 3], shape: [1, 4]))
        XCTAssertGreaterThan(disjoint.item, 1)
        XCTAssertEqual(disjoint.item, 1 + 7.0 / 9, accuracy: 1e-5)
        let all = giouLoss(pred, target, reduction: .none)
        XCTAssertGreaterThan(all.data[1], 1)
        XCTAssertGreaterThan(all.data[3], 1)
        XCTAssertLessThan(all.data[0], 1)
        XCTAssertLessThan(all.data[2], 1)
    }

    // MARK: - RoIAlign

    private static let rois = [
        RoI(batchIndex: 0, x1: 1.2, y1: 0.7, x2: 4.9, y2: 3.8),
        RoI(batchIndex: 1, x1: 0.3, y1: 1.1, x2: 6.2, y2: 5.5),
        RoI(batchIndex: 0, x1: 2.5, y1: 2.5, x2: 3.1, y2: 3.3),   // smaller than a bin
        RoI(batchIndex: 1, x1: -0.8, y1: -0.5, x2: 2.0, y2: 1.7), // partly outside the map
    ]

    func testRoIAlignGradients() {
        let features = tensor([2, 3, 6, 7], seed: 400)
        for aligned in [true, false] {
            for sampling in [2, 0] {
                checkGradients("roiAlign aligned \(aligned) sampling \(sampling)", inputs: [features]) {
                    roiAlign($0[0], rois: Self.rois, outputSize: (2, 3), spatialScale: 1, samplingRatio: sampling, aligned: aligned)
                }
            }
        }
        // Image coordinates at stride 2.
        let scaled = Self.rois.map { RoI(batchIndex: $0.batchIndex, x1: $0.x1 * 2, y1: $0.y1 * 2, x2: $0.x2 * 2, y2: $0.y2 * 2) }
        checkGradients("roiAlign spatialScale 0.5", inputs: [features]) {
            roiAlign($0[0], rois: scaled, outputSize: (3, 2), spatialScale: 0.5, samplingRatio: 0, aligned: true)
        }
    }

    func testRoIAlignValues() {
        let (h, w) = (6, 7)
        // Constant map: every bin whose samples lie inside the map averages to the constant.
        let constant = Tensor.full([2, 1, h, w], 3)
        let inside = [RoI(batchIndex: 0, x1: 1.2, y1: 0.7, x2: 4.9, y2: 3.8), RoI(batchIndex: 1, x1: 0.3, y1: 1.1, x2: 6.2, y2: 5.5)]
        for aligned in [true, false] {
            for sampling in [0, 1, 2, 3] {
                let y = roiAlign(constant, rois: inside, outputSize: (2, 3), spatialScale: 1, samplingRatio: sampling, aligned: aligned)
                assertClose(y.data, [Float](repeating: 3, count: 12), "constant map aligned \(aligned) sampling \(sampling)")
            }
        }
        // A RoI entirely off the map samples nothing.
        let off = roiAlign(constant, rois: [RoI(batchIndex: 0, x1: 20, y1: 20, x2: 30, y2: 30)], outputSize: (2, 2), spatialScale: 1)
        XCTAssertEqual(off.data, [0, 0, 0, 0])

        // Linear ramp f_c(y, x) = (c + 1) y - 0.3 x + c on batch 0 and 2 y + x on batch 1. Bilinear
        // sampling reproduces a linear function, and the samples of a bin are symmetric about its
        // centre, so each bin averages to the ramp at the bin centre.
        var data = [Float](repeating: 0, count: 2 * 2 * h * w)
        for n in 0..<2 { for c in 0..<2 { for y in 0..<h { for x in 0..<w {
            data[((n * 2 + c) * h + y) * w + x] = n == 0 ? Float(c + 1) * Float(y) - 0.3 * Float(x) + Float(c) : 2 * Float(y) + Float(x)
        } } } }
        let ramp = Tensor(data, shape: [2, 2, h, w])
        func rampValue(_ n: Int, _ c: Int, _ y: Float, _ x: Float) -> Float {
            n == 0 ? Float(c + 1) * y - 0.3 * x + Float(c) : 2 * y + x
        }
        let scale: Float = 0.5
        let rois = [RoI(batchIndex: 0, x1: 2.4, y1: 2.2, x2: 9.6, y2: 8.6), RoI(batchIndex: 1, x1: 1.6, y1: 1.4, x2: 11.2, y2: 9.8)]
        let (ph, pw) = (2, 3)
        for aligned in [true, false] {
            for sampling in [0, 1, 2, 4] {
                let y = roiAlign(ramp, rois: rois, outputSize: (ph, pw), spatialScale: scale, samplingRatio: sampling, aligned: aligned)
                XCTAssertEqual(y.shape, [2, 2, ph, pw])
                var expected: [Float] = []
                let offset: Float = aligned ? 0.5 : 0
                for roi in rois {
                    let sx = roi.x1 * scale - offset, sy = roi.y1 * scale - offset
                    let bw = (roi.x2 - roi.x1) * scale / Float(pw), bh = (roi.y2 - roi.y1) * scale / Float(ph)
                    for c in 0..<2 { for i in 0..<ph { for j in 0..<pw {
                        expected.append(rampValue(roi.batchIndex, c, sy + (Float(i) + 0.5) * bh, sx + (Float(j) + 0.5) * bw))
                    } } }
                }
                assertClose(y.data, expected, tol: 1e-4, "ramp aligned \(aligned) sampling \(sampling)")
            }
        }
        // On a quadratic map the number of samples per bin matters. Channel 0 is y^2, channel 1 is x^2
        // on a 5x5 map; RoI (0, 0, 4, 4) pooled to 1x2 has bins 4 high and 2 wide.
        var quad = [Float](repeating: 0, count: 2 * 25)
        for y in 0..<5 { for x in 0..<5 { quad[y * 5 + x] = Float(y * y); quad[25 + y * 5 + x] = Float(x * x) } }
        let quadMap = Tensor(quad, shape: [1, 2, 5, 5])
        let square = [RoI(batchIndex: 0, x1: 0, y1: 0, x2: 4, y2: 4)]
        // Not aligned, adaptive grid 4 x 2: rows sample y = 0.5, 1.5, 2.5, 3.5, where bilinear y^2 is
        // 0.5, 2.5, 6.5, 12.5 (mean 5.5); columns sample x = 0.5, 1.5 and 2.5, 3.5 (means 1.5 and 9.5).
        assertClose(roiAlign(quadMap, rois: square, outputSize: (1, 2), spatialScale: 1, samplingRatio: 0, aligned: false).data,
                    [5.5, 5.5, 1.5, 9.5], "quadratic adaptive grid")
        // samplingRatio 2: rows sample y = 1, 3 (mean of 1 and 9 is 5); columns as before.
        assertClose(roiAlign(quadMap, rois: square, outputSize: (1, 2), spatialScale: 1, samplingRatio: 2, aligned: false).data,
                    [5, 5, 1.5, 9.5], "quadratic sampling 2")
        // samplingRatio 1: the bin centres y = 2, x = 1 and 3.
        assertClose(roiAlign(quadMap, rois: square, outputSize: (1, 2), spatialScale: 1, samplingRatio: 1, aligned: false).data,
                    [4, 4, 1, 9], "quadratic sampling 1")
        // Aligned shifts by half a pixel: rows sample y = 0, 1, 2, 3 (mean 3.5), columns x = 0, 1 and 2, 3.
        assertClose(roiAlign(quadMap, rois: square, outputSize: (1, 2), spatialScale: 1, samplingRatio: 0, aligned: true).data,
                    [3.5, 3.5, 0.5, 6.5], "quadratic aligned")
        // One sample per bin at integer grid points reads the pixel itself: a 1-pixel RoI per bin.
        let px = roiAlign(ramp, rois: [RoI(batchIndex: 1, x1: 2, y1: 1, x2: 4, y2: 3)], outputSize: (2, 2), spatialScale: 1,
                          samplingRatio: 1, aligned: true)
        // aligned: start (1.5, 0.5), bins of 1, sample centres at x = 2, 3 and y = 1, 2.
        assertClose(Array(px.data[0..<4]), [2 * 1 + 2, 2 * 1 + 3, 2 * 2 + 2, 2 * 2 + 3], "pixel-centred samples")
    }

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
            ("conv2d stride 2", [img16, w16], { conv2d($0[0], weight: $0[1], bias: nil, Conv2dGeometry(kernel: 3, stride: 2, padding: 1)) }),
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

    // MARK: - Dropout

    func testDropout() {
        let x = tensor([4, 5], seed: 410)
        // A fresh generator per call draws the same mask, so the map is linear and checkable.
        checkGradients("dropout training, fixed mask", inputs: [x]) { $0[0].dropout(0.3, training: true, rng: RandomGenerator(seed: 7)) }
        XCTAssertTrue(x.dropout(0.5, training: false, rng: RandomGenerator(seed: 1)) === x)
        XCTAssertTrue(x.dropout(0, training: true, rng: RandomGenerator(seed: 1)) === x)
        let y = Tensor.ones([1000]).dropout(0.25, training: true, rng: RandomGenerator(seed: 3))
        XCTAssertTrue(y.data.allSatisfy { $0 == 0 || Swift.abs($0 - 4.0 / 3) < 1e-6 })
        let kept = y.data.filter { $0 != 0 }.count
        XCTAssertTrue((650...850).contains(kept), "kept \(kept) of 1000 at p = 0.25")
    }

    // MARK: - Modules

    func testLinearModule() {
        let layer = Linear(4, 3, rng: RandomGenerator(seed: 420))
        let x = tensor([2, 3, 4], seed: 421)
        let params = layer.parameters()
        XCTAssertEqual(params.count, 2)
        checkGradients("Linear module", inputs: params + [x]) { layer($0[params.count]) }
        let noBias = Linear(4, 2, bias: false, rng: RandomGenerator(seed: 422))
        XCTAssertEqual(noBias.parameters().count, 1)
        checkGradients("Linear module without bias", inputs: noBias.parameters() + [x]) { noBias($0[1]) }
    }

    func testFeedForwardSequentialAndEmbeddingModules() {
        let x = tensor([2, 3, 4], seed: 423)
        let ff = FeedForward(dModel: 4, dFF: 6, dropout: 0, gelu: true, rng: RandomGenerator(seed: 424))
        XCTAssertEqual(ff.parameters().count, 4)
        checkGradients("FeedForward gelu", inputs: ff.parameters() + [x]) { ff($0[4]) }
        let seq = Sequential([Linear(4, 5, rng: RandomGenerator(seed: 425)), GELU(), Linear(5, 2, rng: RandomGenerator(seed: 426))])
        XCTAssertEqual(seq.parameters().count, 4)
        XCTAssertEqual(seq.namedParameters().map(\.0), ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"])
        checkGradients("Sequential Linear-GELU-Linear", inputs: seq.parameters() + [x]) { seq($0[4]) }
        let emb = Embedding(6, 3, rng: RandomGenerator(seed: 427))
        checkGradients("Embedding module", inputs: emb.parameters()) { _ in emb.forward([5, 0, 5, 2], shape: [2, 2]) }
    }

    func testConv2dModule() {
        let conv = Conv2d(2, 3, kernel: 3, stride: 1, padding: 1, rng: RandomGenerator(seed: 430))
        for i in 0..<conv.bias!.count { conv.bias!.data[i] = Float(i) * 0.1 - 0.1 }
        let x = tensor([2, 2, 4, 5], seed: 431)
        let params = conv.parameters()
        checkGradients("Conv2d module", inputs: params + [x]) { conv($0[params.count]) }
        let strided = Conv2d(2, 2, kernel: 3, stride: 2, padding: 1, dilation: 1, bias: false, rng: RandomGenerator(seed: 432))
        checkGradients("Conv2d module stride 2 no bias", inputs: strided.parameters() + [x]) { strided($0[1]) }
    }

    func testNormModules() {
        let x = tensor([2, 3, 4], seed: 440, low: -2, high: 2)
        for variant in [NormVariant.standard, .unbiasedStd] {
            let ln = LayerNorm(4, eps: 1e-5, variant: variant)
            let rng = RandomGenerator(seed: 441)
            for i in 0..<4 { ln.weight.data[i] = rng.uniform(0.5, 1.5); ln.bias.data[i] = rng.uniform(-0.5, 0.5) }
            let params = ln.parameters()
            XCTAssertEqual(params.count, 2)
            checkGradients("LayerNorm module \(variant)", inputs: params + [x]) { ln($0[2]) }
        }
        let img = tensor([2, 4, 3, 3], seed: 442, low: -2, high: 2)
        let gn = GroupNorm(groups: 2, channels: 4)
        checkGradients("GroupNorm module", inputs: gn.parameters() + [img]) { gn($0[2]) }
        let bn = BatchNorm2d(4)
        checkGradients("BatchNorm2d module training", inputs: bn.parameters() + [img]) { bn($0[2]) }
        bn.eval()
        checkGradients("BatchNorm2d module eval", inputs: bn.parameters() + [img]) { bn($0[2]) }
        // Running statistics are buffers, not parameters.
        XCTAssertEqual(bn.parameters().count, 2)
        XCTAssertEqual(bn.namedTensors().count, 4)
    }

    func testMultiHeadAttentionModule() {
        let mha = MultiHeadAttention(dModel: 4, heads: 2, dropout: 0, rng: RandomGenerator(seed: 450))
        mha.eval()
        let params = mha.parameters()
        XCTAssertEqual(params.count, 8)
        let n = params.count
        let x = tensor([2, 3, 4], seed: 451), memory = tensor([2, 5, 4], seed: 452)
        checkGradients("MultiHeadAttention self", inputs: params + [x]) {
            mha.forward(query: $0[n], key: $0[n], value: $0[n])
        }
        checkGradients("MultiHeadAttention causal", inputs: params + [x]) {
            mha.forward(query: $0[n], key: $0[n], value: $0[n], causal: true)
        }
        let padding = Tensor([0, 0, 0, 0, 0, 0, 0, 0, -1e9, -1e9], shape: [2, 1, 1, 5])
        checkGradients("MultiHeadAttention cross with mask", inputs: params + [x, memory]) {
            mha.forward(query: $0[n], key: $0[n + 1], value: $0[n + 1], mask: padding)
        }
    }

    /// Rows continuing shared prefixes give what each row's whole sequence gives under causal
    /// attention, and the shared pass has finite-difference gradients.
    func testMultiHeadAttentionSharedPrefix() {
        let mha = MultiHeadAttention(dModel: 4, heads: 2, dropout: 0, rng: RandomGenerator(seed: 453))
        mha.eval()
        let prefix = tensor([2, 3, 4], seed: 454), rows = tensor([3, 2, 4], seed: 455)
        let prefixOf = [1, 0, 1]
        let padding = Tensor([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1e9], shape: [3, 1, 1, 5])
        let shared = mha.forward(prefix: prefix, rows: rows, prefixOf: prefixOf, mask: padding)
        let whole = Tensor.concat([prefix.indexSelect(axis: 0, prefixOf), rows], axis: 1)
        let full = mha.forward(query: whole, key: whole, value: whole, mask: padding, causal: true)
        for (a, b) in zip(shared.rows.data, full.slice(axis: 1, 3..<5).data) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let alone = mha.forward(query: prefix, key: prefix, value: prefix, causal: true)
        for (a, b) in zip(shared.prefix.data, alone.data) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let params = mha.parameters(), n = params.count
        checkGradients("MultiHeadAttention shared prefix", inputs: params + [prefix, rows]) {
            let out = mha.forward(prefix: $0[n], rows: $0[n + 1], prefixOf: prefixOf, mask: padding)
            return Tensor.concat([out.prefix.reshaped([24]), out.rows.reshaped([24])], axis: 0)
        }
    }

    // The feed-forward block's ReLU has a kink at 0: a finite difference is only valid while no
    // pre-activation crosses it. These checks use a smaller step (2e-3) and assert that every
    // pre-activation stays well clear of 0 for the chosen initialisation and inputs.
    private static let transformerEps: Float = 2e-3
    private static let reluMargin: Float = 0.015

    private func encoderReLUMargin(_ layer: TransformerEncoderLayer, _ x: Tensor, mask: Tensor?) -> Float {
        withNoGrad {
            let n1 = layer.norm1(x)
            let h = x + layer.selfAttn.forward(query: n1, key: n1, value: n1, mask: mask)
            return layer.feedForward.fc1(layer.norm2(h)).data.map { Swift.abs($0) }.min()!
        }
    }

    private func decoderReLUMargin(_ layer: TransformerDecoderLayer, _ x: Tensor, memory: Tensor, memoryMask: Tensor?) -> Float {
        withNoGrad {
            let n1 = layer.norm1(x)
            var h = x + layer.selfAttn.forward(query: n1, key: n1, value: n1, causal: true)
            h = h + layer.crossAttn.forward(query: layer.norm2(h), key: memory, value: memory, mask: memoryMask)
            return layer.feedForward.fc1(layer.norm3(h)).data.map { Swift.abs($0) }.min()!
        }
    }

    func testTransformerEncoderLayer() {
        let layer = TransformerEncoderLayer(dModel: 4, heads: 2, dFF: 8, dropout: 0, rng: RandomGenerator(seed: 464))
        layer.eval()
        let params = layer.parameters()
        XCTAssertEqual(params.count, 16)
        let n = params.count
        let x = tensor([2, 3, 4], seed: 461)
        let mask = Tensor([0, 0, 0, 0, 0, -1e9], shape: [2, 1, 1, 3])
        XCTAssertGreaterThan(encoderReLUMargin(layer, x, mask: nil), Self.reluMargin)
        XCTAssertGreaterThan(encoderReLUMargin(layer, x, mask: mask), Self.reluMargin)
        checkGradients("TransformerEncoderLayer", inputs: params + [x], eps: Self.transformerEps) { layer.forward($0[n]) }
        checkGradients("TransformerEncoderLayer with mask", inputs: params + [x], eps: Self.transformerEps) { layer.forward($0[n], mask: mask) }
        let unbiased = TransformerEncoderLayer(dModel: 4, heads: 2, dFF: 8, dropout: 0, normVariant: .unbiasedStd, rng: RandomGenerator(seed: 465))
        XCTAssertGreaterThan(encoderReLUMargin(unbiased, x, mask: nil), Self.reluMargin)
        let p2 = unbiased.parameters()
        checkGradients("TransformerEncoderLayer unbiasedStd", inputs: p2 + [x], eps: Self.transformerEps) { unbiased.forward($0[p2.count]) }
    }

    func testTransformerDecoderLayer() {
        let layer = TransformerDecoderLayer(dModel: 4, heads: 2, dFF: 8, dropout: 0, rng: RandomGenerator(seed: 464))
        layer.eval()
        let params = layer.parameters()
        XCTAssertEqual(params.count, 26)
        let n = params.count
        let x = tensor([2, 3, 4], seed: 461), memory = tensor([2, 2, 4], seed: 472)
        let memoryMask = Tensor([0, 0, 0, -1e9], shape: [2, 1, 1, 2])
        XCTAssertGreaterThan(decoderReLUMargin(layer, x, memory: memory, memoryMask: nil), Self.reluMargin)
        XCTAssertGreaterThan(decoderReLUMargin(layer, x, memory: memory, memoryMask: memoryMask), Self.reluMargin)
        checkGradients("TransformerDecoderLayer", inputs: params + [x, memory], eps: Self.transformerEps) {
            layer.forward($0[n], memory: $0[n + 1])
        }
        checkGradients("TransformerDecoderLayer with memory mask", inputs: params + [x, memory], eps: Self.transformerEps) {
            layer.forward($0[n], memory: $0[n + 1], memoryMask: memoryMask)
        }
        // Training mode with dropout 0 is deterministic too.
        layer.train()
        checkGradients("TransformerDecoderLayer train(), dropout 0", inputs: params + [x, memory], eps: Self.transformerEps) {
            layer.forward($0[n], memory: $0[n + 1])
        }
    }
}
