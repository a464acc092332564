import XCTest
@testable import Tensor

/// Central finite differences against the engine's analytic gradients.
///
/// The op's output is contracted with fixed random weights R (loss = sum(out * R), accumulated in
/// Double on the host) so that every output element and every input element matters.
func checkGradients(_ name: String, inputs: [Tensor], eps: Float = 1e-2, tolerance: Float = 2e-2,
                    file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor) {
    let rng = RandomGenerator(seed: 99)
    for t in inputs { t.requiresGrad = true; t.grad = nil }
    let out = f(inputs)
    let weights = (0..<out.count).map { _ in rng.uniform(-1, 1) }
    out.backward(seed: weights)
    func loss() -> Double {
        withNoGrad { zip(f(inputs).data, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
    }
    for (k, t) in inputs.enumerated() {
        let analytic = t.grad ?? [Float](repeating: 0, count: t.count)
        for i in 0..<t.count {
            let saved = t.data[i]
            t.data[i] = saved + eps
            let plus = loss()
            t.data[i] = saved - eps
            let minus = loss()
            t.data[i] = saved
            let numeric = Float((plus - minus) / Double(2 * eps))
            let err = abs(numeric - analytic[i]) / max(1, abs(numeric), abs(analytic[i]))
            if err > tolerance {
                XCTFail("\(name): input \(k) element \(i): analytic \(analytic[i]) vs numeric \(numeric)", file: file, line: line)
                return
            }
        }
    }
}

func randomTensor(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    Tensor.uniform(shape, low, high, rng: RandomGenerator(seed: seed))
}
