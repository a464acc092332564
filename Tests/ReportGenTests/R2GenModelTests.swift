import Foundation
import Injection
import Tensor
import XCTest

@testable import ReportGen

/// Central-difference check of d(loss)/d(t[i]) for a few entries of `t`.
func assertGradient(of t: Tensor, entries: [Int], file: StaticString = #filePath, line: UInt = #line, _ loss: () -> Tensor) {
    t.grad = nil
    loss().backward()
    let analytic = t.grad!
    for i in entries {
        let saved = t.data[i], h: Float = 1e-2
        t.data[i] = saved + h
        let up = withNoGrad { loss().item }
        t.data[i] = saved - h
        let down = withNoGrad { loss().item }
        t.data[i] = saved
        let numeric = (up - down) / (2 * h)
        XCTAssertEqual(analytic[i], numeric, accuracy: 2e-2 * max(1, abs(numeric)), "entry \(i)", file: file, line: line)
    }
}

final class R2GenModelTests: XCTestCase {
    func testRelationalMemoryStartsAtIdentityAndKeepsShapes() {
        let rng = RandomGenerator(seed: 1)
        let rm = RelationalMemory(slots: 3, dModel: 8, heads: 2, rng: rng)
        let m0 = rm.initialState(batch: 2)
        XCTAssertEqual(m0.shape, [2, 3, 8])
        XCTAssertEqual(Array(m0.data[0..<16]), [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
        let tokens = Tensor.randn([2, 5, 8], rng: rng)
        let states = rm.forward(tokens, from: m0)
        XCTAssertEqual(states.shape, [2, 5, 24])
        // Step t depends on tokens up to t only.
        let changed = Tensor(shape: tokens.shape, data: tokens.data)
        for i in 0..<8 { changed.data[(0 * 5 + 4) * 8 + i] += 1 }
        let states2 = rm.forward(changed, from: m0)
        XCTAssertEqual(Array(states.data[0..<(4 * 24)]), Array(states2.data[0..<(4 * 24)]))
        XCTAssertNotEqual(Array(states.data[(4 * 24)..<(5 * 24)]), Array(states2.data[(4 * 24)..<(5 * 24)]))
    }

    func testRelationalMemoryGradients() {
        let rng = RandomGenerator(seed: 2)
        let rm = RelationalMemory(slots: 2, dModel: 4, heads: 2, rng: rng)
        let tokens = Tensor.randn([1, 3, 4], rng: rng, requiresGrad: true)
        let weights = Tensor.randn([1, 3, 8], rng: rng)
        let loss = { (rm.forward(tokens, from: rm.initialState(batch: 1)) * weights).sum() }
        assertGradient(of: tokens, entries: [0, 5, 11], loss)
        assertGradient(of: rm.inputGates.weight, entries: [0, 9, 30], loss)
        assertGradient(of: rm.attention.qProj.weight, entries: [1, 7], loss)
    }

    func testConditionalLayerNormIsR2GensLayerNormPlusMemoryShifts() {
        let rng = RandomGenerator(seed: 3)
        let norm = ConditionalLayerNorm(dModel: 4, memoryWidth: 6, rng: rng)
        let x = Tensor([1, 2, 3, 6], shape: [1, 1, 4])
        let memory = Tensor.randn([1, 1, 6], rng: rng)
        // With the MLPs' last layers zeroed (bias too), MCLN is gamma * (x - mean) / (std_unbiased + eps) + beta.
        for mlp in [norm.mlpGamma, norm.mlpBeta] {
            let last = mlp.layers[2] as! Linear
            for i in last.weight.data.indices { last.weight.data[i] = 0 }
            for i in last.bias!.data.indices { last.bias!.data[i] = 0 }
        }
        let std = Float((([1, 2, 3, 6] as [Float]).map { ($0 - 3) * ($0 - 3) }.reduce(0, +) / 3).squareRoot())
        let y = norm(x, memory: memory)
        for (i, v) in [1, 2, 3, 6].enumerated() { XCTAssertEqual(y.data[i], (Float(v) - 3) / (std + 1e-6), accuracy: 1e-5) }
        // The memory shifts gamma and beta once the MLPs are live again.
        let last = norm.mlpBeta.layers[2] as! Linear
        last.bias!.data[0] = 0.5
        XCTAssertEqual(norm(x, memory: memory).data[0], y.data[0] + 0.5, accuracy: 1e-5)
    }

    func testConditionalLayerNormGradients() {
        let rng = RandomGenerator(seed: 4)
        let norm = ConditionalLayerNorm(dModel: 4, memoryWidth: 6, rng: rng)
        let x = Tensor.randn([2, 3, 4], rng: rng, requiresGrad: true)
        let memory = Tensor.randn([2, 3, 6], rng: rng, requiresGrad: true)
        let weights = Tensor.randn([2, 3, 4], rng: rng)
        let loss = { (norm(x, memory: memory) * weights).sum() }
        assertGradient(of: x, entries: [0, 6, 23], loss)
        assertGradient(of: memory, entries: [1, 17, 35], loss)
    }

    /// Cached step-by-step decoding gives the same log-probabilities as teacher forcing.
    func testIncrementalDecodingMatchesTeacherForcing() {
        let model = R2GenModel(tinyConfig(), vocabularySize: 7, seed: 5)
        model.eval()
        let rng = RandomGenerator(seed: 6)
        let encoded = withNoGrad { model.encode(Tensor.randn([2, 4, model.config.channels.last!], rng: rng)) }
        let ids = [0, 3, 5, 2, 0, 1, 1, 4]
        let full = withNoGrad { model.forward(encoded: encoded, ids: ids, length: 4) }
        var stepper = R2GenStepper(model, encoded: encoded)
        for t in 0..<4 {
            let lp = withNoGrad { stepper.step([ids[t], ids[4 + t]]) }
            for b in 0..<2 {
                for v in 0..<7 { XCTAssertEqual(lp[b * 7 + v], full.data[(b * 4 + t) * 7 + v], accuracy: 1e-4, "t \(t) b \(b) v \(v)") }
            }
        }
    }
}

extension R2GenModelTests {
    /// With region tokens and hints (of different lengths, so padding is masked), cached decoding
    /// still equals teacher forcing, and a study's output does not depend on another's padding.
    func testInjectedGroundingDecodesConsistently() {
        var c = tinyConfig()
        c.injection.mode = .both; c.injection.topK = 2
        c.injection.phrases = ["nodule"]; c.injection.hintVocabulary = [".", "nodule", "small"]
        let model = R2GenModel(c, vocabularySize: 7, seed: 8)
        model.eval()
        let rng = RandomGenerator(seed: 9)
        let images = Tensor.randn([4, 1, 32, 32], rng: rng)
        let regions = [[GroundedRegion(phrase: "nodule", score: 0.9, box: [0.1, 0.2, 0.4, 0.5])], []]
        let encoded = withNoGrad { model.encode(model.attentionFeatures(images, views: 2, regions: regions), hints: [[4, 3, 2], [3]]) }
        // 2 views x 8x8 patches + the global token + 2 region slots + 3 hint positions; study 1's last two are padding.
        XCTAssertEqual(encoded.memory.shape, [2, 134, 16])
        XCTAssertEqual(Array(encoded.mask!.data[134..<268]), Array(repeating: 0, count: 132) + [-1e9, -1e9])
        let ids = [0, 3, 5, 2, 0, 1, 1, 4]
        let full = withNoGrad { model.forward(encoded: encoded, ids: ids, length: 4) }
        var stepper = R2GenStepper(model, encoded: encoded)
        for t in 0..<4 {
            let lp = withNoGrad { stepper.step([ids[t], ids[4 + t]]) }
            for b in 0..<2 { for v in 0..<7 { XCTAssertEqual(lp[b * 7 + v], full.data[(b * 4 + t) * 7 + v], accuracy: 1e-4) } }
        }
        // Study 1 alone (no padding) gives the same log-probabilities as inside the padded batch.
        let alone = withNoGrad {
            model.forward(
                encoded: model.encode(model.attentionFeatures(images.slice(axis: 0, 2..<4), views: 2, regions: [[]]), hints: [[3]]),
                ids: Array(ids[4..<8]), length: 4)
        }
        for i in 0..<(4 * 7) { XCTAssertEqual(alone.data[i], full.data[4 * 7 + i], accuracy: 1e-4) }
    }
}

func tinyConfig() -> ReportGenConfig {
    var c = ReportGenConfig(dataset: .iuXray)
    c.imageSize = 32; c.channels = [8, 16]; c.dModel = 16; c.dFF = 32; c.heads = 2; c.layers = 1; c.dropout = 0
    return c
}
