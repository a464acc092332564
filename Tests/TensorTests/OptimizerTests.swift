import Foundation
import XCTest

@testable import Tensor

/// Expected values follow the update rules as PyTorch documents them (torch.optim.SGD / Adam /
/// AdamW, lr_scheduler.StepLR, clip_grad_*), worked out by hand for a parameter with a fixed gradient.
final class OptimizerTests: XCTestCase {
    func param(_ values: [Float], grad: [Float]) -> Tensor {
        let p = Tensor(values, requiresGrad: true)
        p.grad = grad
        return p
    }

    func testSGDMomentumAndNesterov() {
        let p = param([1], grad: [0.5])
        let sgd = SGD([p], lr: 0.1, momentum: 0.9, weightDecay: 0.1)
        sgd.step()  // g = 0.5 + 0.1*1 = 0.6, v = 0.6, w = 1 - 0.06
        XCTAssertEqual(p.data[0], 0.94, accuracy: 1e-6)
        p.grad = [0.5]; sgd.step()  // g = 0.5 + 0.094 = 0.594, v = 0.54 + 0.594 = 1.134
        XCTAssertEqual(p.data[0], 0.94 - 0.1134, accuracy: 1e-6)

        let q = param([1], grad: [0.5])
        let nesterov = SGD([q], lr: 0.1, momentum: 0.9, nesterov: true)
        nesterov.step()  // v = 0.5, step = g + 0.9 v = 0.95
        XCTAssertEqual(q.data[0], 1 - 0.095, accuracy: 1e-6)
    }

    func testAdamFirstStepsMatchTheFormula() {
        let p = param([1, -2], grad: [0.3, -0.1])
        let adam = Adam([ParamGroup([p], lr: 0.01, weightDecay: 0)])
        adam.step()
        // First step: m_hat = g, v_hat = g^2, update = lr * g / (|g| + eps) = lr * sign(g).
        XCTAssertEqual(p.data[0], 0.99, accuracy: 1e-6)
        XCTAssertEqual(p.data[1], -1.99, accuracy: 1e-6)
        p.grad = [0.1, -0.1]
        adam.step()
        // m = 0.9*0.03 + 0.1*0.1 ... worked out: m1 = 0.03, m2 = 0.027+0.01 = 0.037; v1 = 9e-5, v2 = 8.991e-5 + 1e-5
        let m = 0.037 / (1 - 0.81), v = (0.999 * 9e-5 + 0.001 * 0.01) / (1 - 0.998001)
        XCTAssertEqual(Double(p.data[0]), 0.99 - 0.01 * m / (v.squareRoot() + 1e-8), accuracy: 1e-6)
    }

    func testAdamWeightDecayIsCoupledAndAdamWDecoupled() {
        let coupled = param([2], grad: [0])
        Adam([ParamGroup([coupled], lr: 0.1, weightDecay: 0.5)]).step()
        // Adam adds wd*w to the gradient (g = 1), so the first step moves by lr * sign = 0.1.
        XCTAssertEqual(coupled.data[0], 1.9, accuracy: 1e-6)
        let decoupled = param([2], grad: [0])
        Adam.adamW([ParamGroup([decoupled], lr: 0.1, weightDecay: 0.5)]).step()
        // AdamW shrinks w by lr*wd and the zero gradient adds nothing.
        XCTAssertEqual(decoupled.data[0], 2 * (1 - 0.05), accuracy: 1e-6)
    }

    func testAMSGradKeepsTheLargestSecondMoment() {
        let plain = param([0], grad: [1]), ams = param([0], grad: [1])
        let a = Adam([ParamGroup([plain], lr: 0.1)]), b = Adam([ParamGroup([ams], lr: 0.1)], amsgrad: true)
        a.step(); b.step()
        for _ in 0..<5 { plain.grad = [0.01]; ams.grad = [0.01]; a.step(); b.step() }
        // With a shrinking gradient the max second moment keeps AMSGrad's steps smaller.
        XCTAssertGreaterThan(ams.data[0], plain.data[0])
    }

    func testParamGroupsKeepTheirOwnRatesUnderSchedule() {
        let v = param([1], grad: [1]), e = param([1], grad: [1])
        let opt = SGD([ParamGroup([v], lr: 5e-5), ParamGroup([e], lr: 1e-4)])
        let schedule = StepLR(stepSize: 1, gamma: 0.8)
        opt.applySchedule(schedule.factor(at: 2))
        XCTAssertEqual(opt.groups[0].lr, 5e-5 * 0.64, accuracy: 1e-12)
        XCTAssertEqual(opt.groups[1].lr, 1e-4 * 0.64, accuracy: 1e-12)
        opt.step()
        XCTAssertEqual(v.data[0], 1 - 3.2e-5, accuracy: 1e-7)
    }

    func testSchedules() {
        let step = StepLR(stepSize: 3, gamma: 0.1)
        XCTAssertEqual([0, 2, 3, 6].map { step.factor(at: $0) }, [1, 1, 0.1, 0.01].map { Float($0) }, accuracy: 1e-7)
        let cosine = CosineWithWarmup(warmupSteps: 4, totalSteps: 14, minFactor: 0.1)
        XCTAssertEqual(cosine.factor(at: 0), 0.25, accuracy: 1e-6)
        XCTAssertEqual(cosine.factor(at: 3), 1, accuracy: 1e-6)
        XCTAssertEqual(cosine.factor(at: 9), 0.1 + 0.9 * 0.5, accuracy: 1e-6)  // half-way: cos(pi/2) = 0
        XCTAssertEqual(cosine.factor(at: 14), 0.1, accuracy: 1e-6)
    }

    func testGradientClipping() {
        let a = param([0, 0], grad: [3, -0.2]), b = param([0], grad: [4])
        clipGradValue([a], 0.5)
        XCTAssertEqual(a.grad!, [0.5, -0.2])
        a.grad = [3, 0]
        let norm = clipGradNorm([a, b], maxNorm: 1)
        XCTAssertEqual(norm, 5, accuracy: 1e-5)
        XCTAssertEqual(a.grad![0], 0.6, accuracy: 1e-5)
        XCTAssertEqual(b.grad![0], 0.8, accuracy: 1e-5)
        let small = param([0], grad: [0.1])
        clipGradNorm([small], maxNorm: 1)
        XCTAssertEqual(small.grad!, [0.1], "gradients under the limit are untouched")
    }
}

func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
