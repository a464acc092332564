import Foundation
import XCTest

@testable import Tensor

/// Gradient and value checks of `Sources/Tensor/Ops/Matmul.swift` (helpers in GradientCheckInputs.swift).
final class MatmulGradientTests: XCTestCase {
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
            for i in 0..<m {
                for j in 0..<n {
                    var s: Double = 0
                    for p in 0..<k {
                        let av = ta ? a.data[p * m + i] : a.data[i * k + p]
                        let bv = tb ? b.data[j * k + p] : b.data[p * n + j]
                        s += Double(av) * Double(bv)
                    }
                    out[i * n + j] = Float(s)
                }
            }
            return out
        }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = tensor(ta ? [k, m] : [m, k], seed: 103), b = tensor(tb ? [n, k] : [k, n], seed: 104)
            assertClose(
                Tensor.matmul(a, b, transposeA: ta, transposeB: tb).data, naive(a, b, ta, tb), tol: 1e-4,
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
        let linearInputs = [tensor([2, 12, 32], seed: 113), tensor([48, 32], seed: 114), tensor([48], seed: 115)]
        checkGradients("BLAS-sized linear with bias", inputs: linearInputs) {
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
}
