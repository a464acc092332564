import Foundation
import XCTest

@testable import Tensor

/// Gradient and value checks of `Sources/Tensor/Ops/Losses.swift` (helpers in GradientCheckInputs.swift).
final class LossGradientTests: XCTestCase {
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
        assertClose(
            sigmoidFocalLoss(x, targets: t, alpha: -1, gamma: 0, reduction: .none).data,
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
        let pred = Tensor(
            [
                0.1, 0.2, 1.3, 1.1,
                0.0, 0.0, 0.6, 0.5,
                0.2, 0.3, 1.9, 1.7,
                0.0, 0.1, 0.5, 1.2
            ], shape: [4, 4])
        let target = Tensor(
            [
                0.5, 0.4, 1.8, 1.6,
                1.0, 0.9, 1.7, 1.5,
                0.6, 0.7, 1.2, 1.3,
                0.9, 0.4, 1.4, 0.8
            ], shape: [4, 4])
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
}
