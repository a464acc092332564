import XCTest

@testable import Tensor

/// Central finite differences against the engine's analytic gradients.
///
/// The op's output is contracted with fixed random weights R (loss = sum(out * R), accumulated in
/// Double on the host) so that every output element and every input element matters.
///
/// Inputs are treated as leaves: an input that was itself produced by an op is cut from its graph
/// first (otherwise the backward pass would push its gradient on to its own inputs and clear it).
/// A NaN or infinite value, analytic or numeric, counts as a failure.
func checkGradients(
    _ name: String, inputs: [Tensor], eps: Float = 1e-2, tolerance: Float = 2e-2,
    file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor
) {
    let rng = RandomGenerator(seed: 99)
    for t in inputs {
        t.inputs = []
        t.backwardFn = nil
        t.requiresGrad = true
        t.grad = nil
    }
    let out = f(inputs)
    guard out.requiresGrad else {
        XCTFail("\(name): the output does not depend on any input (no graph recorded)", file: file, line: line)
        return
    }
    let reference = withNoGrad { f(inputs).data }
    for (i, (a, b)) in zip(out.data, reference).enumerated() where !(abs(a - b) <= 1e-5 * max(1, abs(a))) {
        XCTFail("\(name): output \(i) is \(a) with gradients enabled but \(b) without", file: file, line: line)
        return
    }
    let weights = (0..<out.count).map { _ in rng.uniform(-1, 1) }
    out.backward(seed: weights)
    // A plain pointer loop: this runs twice per input element, and in debug builds a zip/reduce
    // over the output costs more than most of the ops under test.
    func loss() -> Double {
        let y = withNoGrad { f(inputs) }
        return y.data.withUnsafeBufferPointer { p in
            weights.withUnsafeBufferPointer { w in
                var s: Double = 0
                for i in 0..<p.count { s += Double(p[i]) * Double(w[i]) }
                return s
            }
        }
    }
    for (k, t) in inputs.enumerated() {
        let analytic = t.grad ?? [Float](repeating: 0, count: t.count)
        if analytic.count != t.count {
            XCTFail("\(name): input \(k) has \(analytic.count) gradient values for \(t.count) elements", file: file, line: line)
            return
        }
        for i in 0..<t.count {
            let saved = t.data[i]
            t.data[i] = saved + eps
            let plus = loss()
            t.data[i] = saved - eps
            let minus = loss()
            t.data[i] = saved
            let numeric = Float((plus - minus) / Double(2 * eps))
            let err = abs(numeric - analytic[i]) / max(1, abs(numeric), abs(analytic[i]))
            // Written so that NaN fails: a NaN error is not <= tolerance.
            if !(err <= tolerance) {
                XCTFail("\(name): input \(k) element \(i): analytic \(analytic[i]) vs numeric \(numeric)", file: file, line: line)
                return
            }
        }
    }
}

func randomTensor(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    Tensor.uniform(shape, low, high, rng: RandomGenerator(seed: seed))
}
