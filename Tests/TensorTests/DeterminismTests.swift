import XCTest

@testable import Tensor

final class DeterminismTests: XCTestCase {
    /// Losses of a few training steps of a conv + attention model with dropout, from one seed.
    func losses(seed: UInt64) -> [Float] {
        let rng = RandomGenerator(seed: seed)
        let conv = Conv2d(1, 8, kernel: 3, padding: 1, rng: rng)
        let encoder = TransformerEncoderLayer(dModel: 8, heads: 2, dFF: 16, dropout: 0.2, rng: rng)
        let head = Linear(8, 4, rng: rng)
        let params = conv.parameters() + encoder.parameters() + head.parameters()
        let opt = Adam.adamW([ParamGroup(params, lr: 1e-2, weightDecay: 0.01)])
        var out: [Float] = []
        for _ in 0..<10 {
            let x = Tensor.randn([4, 1, 8, 8], rng: rng)
            let labels = (0..<4).map { _ in rng.int(4) }
            let tokens = conv(x).reshaped([4, 8, 64]).transposed(1, 2)  // 64 tokens of width 8
            let logits = head(encoder.forward(tokens).mean(axis: 1))
            let loss = crossEntropy(logits, targets: labels)
            opt.zeroGrad(); loss.backward(); clipGradNorm(params, maxNorm: 1); opt.step()
            out.append(loss.item)
        }
        return out
    }

    func testSameSeedGivesBitwiseIdenticalLosses() {
        let a = losses(seed: 42), b = losses(seed: 42)
        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern))
        XCTAssertNotEqual(a, losses(seed: 43), "a different seed must change the run")
        XCTAssertLessThan(a.last!, a.first!, "the run should be learning")
    }

    func testRandomStreamIsFixedAcrossMachines() {
        // xoshiro256** seeded by SplitMix64; the expected value comes from a Python transcription of the
        // reference algorithms (Blackman & Vigna), so the stream is the published one.
        let rng = RandomGenerator(seed: 0)
        let first = (0..<3).map { _ in rng.next() }
        let again = RandomGenerator(seed: 0)
        XCTAssertEqual(first, (0..<3).map { _ in again.next() })
        XCTAssertEqual(first[0], 0x99EC_5F36_CB75_F2B4)
    }
}
