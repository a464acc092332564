import Foundation
import XCTest

@testable import Tensor

/// Small end-to-end problems that the engine must learn in seconds: if any op's forward or
/// backward is subtly wrong, or an optimiser misbehaves, accuracy falls short.
final class LearningTests: XCTestCase {
    // MARK: two moons, MLP

    func twoMoons(_ n: Int, rng: RandomGenerator) -> (x: [Float], y: [Int]) {
        var x: [Float] = [], y: [Int] = []
        for i in 0..<n {
            let label = i % 2, t = rng.uniform(0, .pi)
            let (px, py) = label == 0 ? (cos(t), sin(t)) : (1 - cos(t), 0.5 - sin(t))
            x += [px + 0.1 * rng.normal(), py + 0.1 * rng.normal()]
            y.append(label)
        }
        return (x, y)
    }

    func testMLPSeparatesTwoMoons() {
        let rng = RandomGenerator(seed: 7)
        let train = twoMoons(512, rng: rng), test = twoMoons(512, rng: rng)
        let model = Sequential([Linear(2, 32, rng: rng), ReLU(), Linear(32, 32, rng: rng), ReLU(), Linear(32, 2, rng: rng)])
        let opt = Adam([ParamGroup(model.parameters(), lr: 0.02)])
        let xs = Tensor(train.x, shape: [512, 2])
        for _ in 0..<300 {
            opt.zeroGrad()
            crossEntropy(model(xs), targets: train.y).backward()
            opt.step()
        }
        let predicted = withNoGrad { model(Tensor(test.x, shape: [512, 2])).argmaxLastAxis() }
        let accuracy = Float(zip(predicted, test.y).filter { $0 == $1 }.count) / 512
        XCTAssertGreaterThanOrEqual(accuracy, 0.95, "two-moons test accuracy \(accuracy)")
    }

    // MARK: synthetic shapes, CNN

    /// 16x16 gray images: 0 = hollow square, 1 = plus sign, 2 = filled disc; random place, size and noise.
    func shapes(_ n: Int, rng: RandomGenerator) -> (x: [Float], y: [Int]) {
        let s = 16
        var x = [Float](repeating: 0, count: n * s * s), y: [Int] = []
        for i in 0..<n {
            let label = rng.int(3), r = 3 + rng.int(3)
            let cx = r + rng.int(s - 2 * r), cy = r + rng.int(s - 2 * r)
            for py in 0..<s {
                for px in 0..<s {
                    let dx = px - cx, dy = py - cy
                    let on: Bool
                    switch label {
                    case 0: on = max(abs(dx), abs(dy)) == r
                    case 1: on = (dx == 0 && abs(dy) <= r) || (dy == 0 && abs(dx) <= r)
                    default: on = dx * dx + dy * dy <= r * r
                    }
                    x[i * s * s + py * s + px] = (on ? 1 : 0) + 0.15 * rng.normal()
                }
            }
            y.append(label)
        }
        return (x, y)
    }

    func testCNNClassifiesShapes() {
        let rng = RandomGenerator(seed: 11)
        let model = Sequential([
            Conv2d(1, 8, kernel: 3, padding: 1, rng: rng), BatchNorm2d(8), ReLU(),
            Conv2d(8, 16, kernel: 3, stride: 2, padding: 1, rng: rng), GroupNorm(groups: 4, channels: 16), ReLU()
        ])
        let head = Linear(16, 3, rng: rng)
        func logits(_ x: Tensor) -> Tensor {
            let f = model(x).maxPool2d(Conv2dGeometry(kernel: 2, stride: 2)).adaptiveAvgPool2d(1, 1)
            return head(f.reshaped([x.shape[0], 16]))
        }
        let opt = Adam([ParamGroup(model.parameters() + head.parameters(), lr: 0.01)])
        for _ in 0..<300 {
            let batch = shapes(32, rng: rng)
            opt.zeroGrad()
            crossEntropy(logits(Tensor(batch.x, shape: [32, 1, 16, 16])), targets: batch.y).backward()
            opt.step()
        }
        model.eval()
        let test = shapes(300, rng: rng)
        let predicted = withNoGrad { logits(Tensor(test.x, shape: [300, 1, 16, 16])).argmaxLastAxis() }
        let accuracy = Float(zip(predicted, test.y).filter { $0 == $1 }.count) / 300
        XCTAssertGreaterThanOrEqual(accuracy, 0.95, "shapes test accuracy \(accuracy)")
    }

    // MARK: sequence reversal, encoder-decoder transformer

    final class Reverser: Module {
        let tokens: Embedding, positions: Embedding
        let encoder: [TransformerEncoderLayer], decoder: [TransformerDecoderLayer]
        let finalNorm: LayerNorm
        let out: Linear
        let d: Int

        init(vocab: Int, length: Int, d: Int, rng: RandomGenerator) {
            self.d = d
            tokens = Embedding(vocab, d, rng: rng); positions = Embedding(length, d, rng: rng)
            encoder = (0..<2).map { _ in TransformerEncoderLayer(dModel: d, heads: 4, dFF: 2 * d, dropout: 0, rng: rng) }
            decoder = (0..<2).map { _ in TransformerDecoderLayer(dModel: d, heads: 4, dFF: 2 * d, dropout: 0, rng: rng) }
            finalNorm = LayerNorm(d)
            out = Linear(d, vocab, rng: rng)
        }

        func embed(_ ids: [Int], batch: Int) -> Tensor {
            let t = ids.count / batch
            return tokens.forward(ids, shape: [batch, t]) + positions.forward(Array(0..<t), shape: [t])
        }

        /// Logits `[batch * t, vocab]` for decoder inputs `target` given `source`.
        func forward(source: [Int], target: [Int], batch: Int) -> Tensor {
            let memory = encoder.reduce(embed(source, batch: batch)) { $1.forward($0) }
            let h = decoder.reduce(embed(target, batch: batch)) { $1.forward($0, memory: memory) }
            return out(finalNorm(h)).reshaped([-1, out.weight.shape[0]])
        }
    }

    func testTransformerLearnsSequenceReversal() {
        let rng = RandomGenerator(seed: 3)
        let length = 6, digits = 8, bos = digits
        let model = Reverser(vocab: digits + 1, length: length, d: 32, rng: rng)
        let opt = Adam([ParamGroup(model.parameters(), lr: 3e-3)])
        func batch(_ n: Int) -> (src: [Int], tgt: [Int]) {
            var src: [Int] = [], tgt: [Int] = []
            for _ in 0..<n {
                let s = (0..<length).map { _ in rng.int(digits) }
                src += s; tgt += s.reversed()
            }
            return (src, tgt)
        }
        func shiftRight(_ tgt: [Int], _ n: Int) -> [Int] {
            (0..<n).flatMap { i in [bos] + tgt[(i * length)..<(i * length + length - 1)] }
        }
        for _ in 0..<400 {
            let (src, tgt) = batch(64)
            opt.zeroGrad()
            crossEntropy(model.forward(source: src, target: shiftRight(tgt, 64), batch: 64), targets: tgt).backward()
            opt.step()
        }
        // Greedy decoding, one position at a time, on unseen sequences.
        let n = 200
        let (src, tgt) = batch(n)
        var decoded = [[Int]](repeating: [bos], count: n)
        withNoGrad {
            for step in 0..<length {
                let logits = model.forward(source: src, target: decoded.flatMap { $0 }, batch: n)
                let best = logits.argmaxLastAxis()
                for i in 0..<n { decoded[i].append(best[i * (step + 1) + step]) }
            }
        }
        let correct = (0..<n).map { i in zip(decoded[i].dropFirst(), tgt[(i * length)..<((i + 1) * length)]).filter { $0 == $1 }.count }
        let accuracy = Float(correct.reduce(0, +)) / Float(n * length)
        XCTAssertGreaterThanOrEqual(accuracy, 0.95, "greedy reversal token accuracy \(accuracy)")
    }
}
