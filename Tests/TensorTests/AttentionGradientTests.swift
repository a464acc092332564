import Foundation
import XCTest

@testable import Tensor

/// Gradient and value checks of `Sources/Tensor/Ops/Attention.swift` (helpers in GradientCheckInputs.swift).
final class AttentionGradientTests: XCTestCase {
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
        assertClose(
            scaledDotProductAttention(q2, k, v, causal: true).data,
            scaledDotProductAttention(q2, k, v, mask: offsetMask).data, "causal Tq < Tk")
        // By hand: q = [1, 0], keys [1, 0] and [0, 1], d = 2: weights softmax([1, 0] / sqrt 2).
        let w0 = 1 / (1 + Foundation.exp(-1 / Float(2).squareRoot()))
        let hand = scaledDotProductAttention(
            Tensor([1, 0], shape: [1, 2]), Tensor([1, 0, 0, 1], shape: [2, 2]),
            Tensor([1, 0, 0, 1], shape: [2, 2]))
        assertClose(hand.data, [w0, 1 - w0], "hand attention")
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
}
