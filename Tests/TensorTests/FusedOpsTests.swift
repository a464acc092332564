import XCTest

@testable import Tensor

/// Fused ops against the compositions they replace, and against finite differences: multi-head
/// attention (split heads, permute, scaled dot-product attention, merge), layer norm with its affine
/// parameters, dropout, and the block broadcasts of elementwise ops.
final class FusedOpsTests: XCTestCase {
    private func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        Tensor.uniform(shape, low, high, rng: RandomGenerator(seed: seed))
    }

    /// The unfused reference: heads split by reshape + permute.
    private func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, mask: Tensor?, causal: Bool) -> Tensor {
        let (b, tq, d) = (q.shape[0], q.shape[1], q.shape[2])
        func split(_ x: Tensor) -> Tensor { x.reshaped([b, x.shape[1], heads, d / heads]).permuted([0, 2, 1, 3]) }
        return scaledDotProductAttention(split(q), split(k), split(v), mask: mask, causal: causal).permuted([0, 2, 1, 3]).reshaped([b, tq, d])
    }

    private func assertClose(_ a: [Float], _ e: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, e.count, what, file: file, line: line)
        for (i, (x, y)) in zip(a, e).enumerated() where !(abs(x - y) <= 1e-5 * max(1, abs(y))) {
            XCTFail("\(what): element \(i) is \(x) fused, \(y) unfused", file: file, line: line)
            return
        }
    }

    func testMatchesUnfusedAttention() {
        // (batch, Tq, Tk, d, heads, mask shape, causal): key padding, full per-head masks, a shared
        // [Tq, Tk] mask, fewer queries than keys (a cached prefix), rows longer than one SIMD block.
        let cases: [(Int, Int, Int, Int, Int, [Int]?, Bool)] = [
            (2, 5, 5, 8, 2, nil, false),
            (2, 5, 5, 8, 2, nil, true),
            (3, 4, 7, 12, 3, [3, 1, 1, 7], false),
            (2, 3, 6, 8, 4, [2, 4, 3, 6], true),
            (1, 6, 6, 4, 1, [6, 6], true),
            (2, 20, 37, 16, 4, [2, 1, 1, 37], false),
            (2, 33, 33, 32, 8, nil, true)
        ]
        for (n, (b, tq, tk, d, heads, maskShape, causal)) in cases.enumerated() {
            let seed = 500 + UInt64(n) * 10
            let q0 = random([b, tq, d], seed: seed), k0 = random([b, tk, d], seed: seed + 1), v0 = random([b, tk, d], seed: seed + 2)
            let mask = maskShape.map { shape in
                // Additive: -1e9 on about a quarter of the positions, small values elsewhere.
                let r = RandomGenerator(seed: seed + 3)
                return Tensor(shape: shape, data: (0..<shape.elementCount).map { _ in r.uniform() < 0.25 ? -1e9 : r.uniform(-1, 1) })
            }
            let seedGrad = random([b * tq * d], seed: seed + 4).data
            func run(_ fused: Bool) -> [[Float]] {
                let (q, k, v) = (q0.detached(), k0.detached(), v0.detached())
                for t in [q, k, v] { t.requiresGrad = true }
                let y =
                    fused
                    ? multiHeadAttention(q, k, v, heads: heads, mask: mask, causal: causal)
                    : reference(q, k, v, heads: heads, mask: mask, causal: causal)
                y.backward(seed: seedGrad)
                return [y.data, q.grad!, k.grad!, v.grad!]
            }
            let (fused, unfused) = (run(true), run(false))
            for (i, what) in ["output", "dq", "dk", "dv"].enumerated() {
                let name = "case \(n) (\(b)x\(tq)x\(tk), d \(d), \(heads) heads, mask \(maskShape ?? []), causal \(causal))"
                assertClose(fused[i], unfused[i], "\(name) \(what)")
            }
        }
    }

    func testFiniteDifferences() {
        let q = random([2, 3, 8], seed: 601), k = random([2, 4, 8], seed: 602), v = random([2, 4, 8], seed: 603)
        let padding = Tensor([0, 0, 0, -1e9, 0, 0, 0, 0], shape: [2, 1, 1, 4])
        checkGradients("fused attention", inputs: [q, k, v]) { multiHeadAttention($0[0], $0[1], $0[2], heads: 2, mask: padding) }
        checkGradients("fused causal attention", inputs: [q, k, v]) { multiHeadAttention($0[0], $0[1], $0[2], heads: 4, causal: true) }
    }

    /// One input feeding queries, keys and values (self-attention without projections) accumulates all three gradients.
    func testSharedInputAccumulates() {
        let x0 = random([2, 4, 8], seed: 604)
        func grad(_ fused: Bool) -> [Float] {
            let x = x0.detached(); x.requiresGrad = true
            let y = fused ? multiHeadAttention(x, x, x, heads: 2) : reference(x, x, x, heads: 2, mask: nil, causal: false)
            y.sum().backward()
            return x.grad!
        }
        assertClose(grad(true), grad(false), "shared input gradient")
    }

    func testFastExpMatchesExp() {
        var x = SIMD8<Float>()
        for start in stride(from: -90.0 as Float, to: 87.5, by: 0.37) {  // softmax feeds x - max <= 0; the top clamps at 88.3
            for i in 0..<8 { x[i] = start + Float(i) * 0.0231 }
            let e = fastExp(x)
            for i in 0..<8 {
                let exact = Foundation.exp(x[i])
                if x[i] < -87.3 { XCTAssertEqual(e[i], 0, "e^\(x[i]) should flush to 0"); continue }
                XCTAssertEqual(e[i], exact, accuracy: exact * 3e-7, "e^\(x[i])")
            }
        }
        XCTAssertEqual(fastExp(SIMD8(repeating: -.infinity))[0], 0)
    }

    func testFullyMaskedRowGivesZeros() {
        let q = random([1, 2, 4], seed: 605), k = random([1, 3, 4], seed: 606), v = random([1, 3, 4], seed: 607)
        let mask = Tensor([-Float.infinity, -.infinity, -.infinity, 0, 0, 0], shape: [1, 1, 2, 3])
        let y = multiHeadAttention(q, k, v, heads: 1, mask: mask)
        XCTAssertEqual(Array(y.data[0..<4]), [0, 0, 0, 0])
        XCTAssertFalse(y.data.contains { $0.isNaN })
    }

    func testLayerNormMatchesUnfused() {
        for (k, variant) in [NormVariant.standard, .unbiasedStd].enumerated() {
            for shape in [[3, 5, 16], [7, 33], [1, 1]] {
                let seed = 700 + UInt64(k * 10 + shape.count)
                let d = shape.last!
                let x0 = random(shape, seed: seed), g0 = random([d], seed: seed + 1, low: 0.5, high: 1.5), b0 = random([d], seed: seed + 2)
                let upstream = random([shape.elementCount], seed: seed + 3).data
                func run(_ fused: Bool) -> [[Float]] {
                    let (x, g, b) = (x0.detached(), g0.detached(), b0.detached())
                    for t in [x, g, b] { t.requiresGrad = true }
                    let y =
                        fused
                        ? layerNorm(x, gamma: g, beta: b, eps: 1e-6, variant: variant)
                        : x.normalizeChunks(d, eps: 1e-6, variant: variant) * g + b
                    y.backward(seed: upstream)
                    return [y.data, x.grad!, g.grad!, b.grad!]
                }
                let (fused, unfused) = (run(true), run(false))
                for (i, what) in ["output", "dx", "dgamma", "dbeta"].enumerated() {
                    assertClose(fused[i], unfused[i], "layer norm \(variant) \(shape) \(what)")
                }
            }
        }
        let x = random([2, 3, 8], seed: 720), g = random([8], seed: 721, low: 0.5, high: 1.5), b = random([8], seed: 722)
        checkGradients("fused layer norm", inputs: [x, g, b]) { layerNorm($0[0], gamma: $0[1], beta: $0[2]) }
        checkGradients("fused layer norm, unbiased std", inputs: [x, g, b]) {
            layerNorm($0[0], gamma: $0[1], beta: $0[2], eps: 1e-6, variant: .unbiasedStd)
        }
    }

    /// Dropout draws the same mask from the same stream as `uniform()` per value did, so seeded runs
    /// keep their results.
    func testDropoutDrawsTheSameMask() {
        let x = random([4, 37], seed: 730)
        let y = x.dropout(0.3, training: true, rng: RandomGenerator(seed: 9))
        let rng = RandomGenerator(seed: 9)
        let expected = x.data.map { v in rng.uniform() < 0.3 ? 0 : v / 0.7 }
        assertClose(y.data, expected, "dropout output")
        XCTAssertTrue(y.data.contains(0) && y.data.contains { $0 != 0 })
        checkGradients("dropout", inputs: [x]) { $0[0].dropout(0.3, training: true, rng: RandomGenerator(seed: 9)) }
    }

    /// Block broadcasts (bias rows, per-channel scales, scalars, either operand small) equal the general path.
    func testBlockBroadcastMatchesGeneralPath() {
        XCTAssertNotNil(BlockBroadcast(full: [2, 3, 4, 5], small: [1, 3, 1, 1]))
        XCTAssertNotNil(BlockBroadcast(full: [2, 3, 4], small: [4]))
        XCTAssertNotNil(BlockBroadcast(full: [2, 3, 4], small: []))
        XCTAssertNil(BlockBroadcast(full: [2, 3, 4], small: [2, 1, 4]), "two separate blocks")
        XCTAssertNil(BlockBroadcast(full: [3, 4], small: [2, 3, 4]), "the small operand widens the output")
        let view = BlockBroadcast(full: [2, 3, 4, 5], small: [1, 3, 4, 1])!
        XCTAssertEqual([view.outer, view.mid, view.inner], [2, 12, 5])
        let a = random([2, 3, 4, 5], seed: 740)
        for (k, shape) in [[1, 3, 1, 1], [5], [], [3, 4, 1], [2, 1, 1, 1]].enumerated() {
            let b = random(shape, seed: 741 + UInt64(k), low: 0.5, high: 1.5)
            checkGradients("a * \(shape)", inputs: [a, b]) { $0[0] * $0[1] }
            checkGradients("\(shape) - a", inputs: [a, b]) { $0[1] - $0[0] }
            checkGradients("\(shape) / a", inputs: [a + 3, b]) { $0[1] / $0[0] }
        }
    }

    func testGroupNormMatchesUnfused() {
        for (k, (shape, groups)) in [([2, 6, 5, 7], 3), ([1, 8, 4, 4], 8), ([3, 4, 1, 9], 1)].enumerated() {
            let seed = 760 + UInt64(k) * 10
            let c = shape[1]
            let x0 = random(shape, seed: seed), g0 = random([c], seed: seed + 1, low: 0.5, high: 1.5), b0 = random([c], seed: seed + 2)
            let upstream = random([shape.elementCount], seed: seed + 3).data
            func run(_ fused: Bool) -> [[Float]] {
                let (x, g, b) = (x0.detached(), g0.detached(), b0.detached())
                for t in [x, g, b] { t.requiresGrad = true }
                let y =
                    fused
                    ? groupNorm(x, groups: groups, gamma: g, beta: b)
                    : x.normalizeChunks(c / groups * shape[2] * shape[3], eps: 1e-5) * g.reshaped([1, c, 1, 1]) + b.reshaped([1, c, 1, 1])
                y.backward(seed: upstream)
                return [y.data, x.grad!, g.grad!, b.grad!]
            }
            let (fused, unfused) = (run(true), run(false))
            for (i, what) in ["output", "dx", "dgamma", "dbeta"].enumerated() {
                assertClose(fused[i], unfused[i], "group norm \(shape) in \(groups) groups \(what)")
            }
        }
        let x = random([2, 4, 3, 3], seed: 790), g = random([4], seed: 791, low: 0.5, high: 1.5), b = random([4], seed: 792)
        checkGradients("fused group norm", inputs: [x, g, b]) { groupNorm($0[0], groups: 2, gamma: $0[1], beta: $0[2]) }
    }

    func testVectorActivationsMatchTheLibrary() {
        let values = (0..<203).map { Float($0 - 101) * 0.173 } + [0, 1e-4, -1e-4, 0.62, 0.63, -30, 30, 95, -95]
        let x = Tensor(values)
        let (t, s) = (x.tanh().data, x.sigmoid().data)
        for (i, v) in values.enumerated() {
            let (exactTanh, exactSigmoid) = (Foundation.tanh(v), Tensor.sigmoid(v))
            XCTAssertEqual(t[i], exactTanh, accuracy: 1e-6 * abs(exactTanh), "tanh(\(v))")
            // Below e^-88 the vector sigmoid saturates at about 5e-39 instead of underflowing further.
            XCTAssertEqual(s[i], exactSigmoid, accuracy: 1e-6 * exactSigmoid + 1e-37, "sigmoid(\(v))")
        }
        // NaN stays NaN (a diverging gate must reach the trainers' finite-loss checks).
        let nan = Tensor([Float.nan, 1])
        XCTAssertTrue(nan.tanh().data[0].isNaN && nan.sigmoid().data[0].isNaN)
        XCTAssertTrue(fastExp(SIMD8(repeating: .nan))[0].isNaN)
        checkGradients("tanh", inputs: [random([3, 11], seed: 800)]) { $0[0].tanh() }
        checkGradients("sigmoid", inputs: [random([3, 11], seed: 801)]) { $0[0].sigmoid() }
    }

    /// Swapping the last two axes runs as tiled transposes: values, gradients, accumulation.
    func testTiledTranspose() {
        let x = random([3, 19, 37], seed: 810)
        let y = x.transposed(1, 2)
        XCTAssertEqual(y.shape, [3, 37, 19])
        for (b, r, c) in [(0, 0, 0), (1, 18, 36), (2, 5, 17), (2, 16, 31)] {
            XCTAssertEqual(y.data[(b * 37 + c) * 19 + r], x.data[(b * 19 + r) * 37 + c])
        }
        checkGradients("transpose of the last two axes", inputs: [random([2, 17, 5], seed: 811)]) { $0[0].transposed(1, 2) * 1.5 }
        checkGradients("transpose used twice", inputs: [random([2, 6, 6], seed: 812)]) { $0[0].transposed(1, 2) + $0[0] * 2 }
        XCTAssertEqual(Tensor.zeros([0, 4, 3]).permuted([0, 2, 1]).shape, [0, 3, 4])
    }

    /// ReLU in eight-value vectors: lengths that leave a tail, NaN kept, the gradient only where the output is positive.
    func testVectorReLU() {
        let values: [Float] = [-2, -0.0, 0, 0.5, .nan, 3, -1e-30, 7, 1e30, -4, 2]
        let x = Tensor(values, requiresGrad: true)
        let y = x.relu()
        XCTAssertEqual(Array(y.data[0..<4]), [0, 0, 0, 0.5])
        XCTAssertTrue(y.data[4].isNaN)
        XCTAssertEqual(Array(y.data[5...]), [3, 0, 7, 1e30, 0, 2])
        y.backward(seed: [Float](repeating: 2, count: values.count))
        XCTAssertEqual(x.grad!, [0, 0, 0, 2, 0, 2, 0, 2, 2, 0, 2])
        checkGradients("relu", inputs: [random([5, 13], seed: 820)]) { ($0[0] + 0.05).relu() * $0[0] }
    }
}
