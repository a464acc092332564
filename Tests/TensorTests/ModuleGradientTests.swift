import Foundation
import XCTest

@testable import Tensor

/// Gradient and value checks of `Sources/Tensor/Modules` (helpers in GradientCheckInputs.swift).
final class ModuleGradientTests: XCTestCase {
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
