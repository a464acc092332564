import Foundation
import XCTest

@testable import Tensor

// Finite-difference gradient checks for every differentiable op, loss and layer of the engine,
// plus value tests against results that are easy to work out by hand.
//
// Inputs that pass through a kink (abs, relu, clamp, max, min, pooling argmax, smooth L1) are drawn
// away from it by much more than the finite-difference step (1e-2), so that the central
// difference never straddles the kink.

// MARK: - Input helpers

/// Uniform values in `[low, high)` that stay at least `margin` away from every point in `kinks`.
func tensor(
    _ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1,
    avoiding kinks: [Float] = [], margin: Float = 0.1
) -> Tensor {
    let rng = RandomGenerator(seed: seed)
    var values: [Float] = []
    values.reserveCapacity(shape.elementCount)
    while values.count < shape.elementCount {
        let v = rng.uniform(low, high)
        if kinks.allSatisfy({ Swift.abs(v - $0) >= margin }) { values.append(v) }
    }
    return Tensor(shape: shape, data: values)
}

/// Pairwise distinct values (a shuffled evenly spaced grid `gap` apart, centred on 0), so that a
/// maximum never changes hands under a finite-difference step.
func distinct(_ shape: [Int], seed: UInt64, gap: Float = 0.05) -> Tensor {
    let n = shape.elementCount
    var values = (0..<n).map { Float($0) * gap - Float(n - 1) * gap / 2 }
    RandomGenerator(seed: seed).shuffle(&values)
    return Tensor(shape: shape, data: values)
}

func assertClose(
    _ actual: [Float], _ expected: [Float], tol: Float = 1e-5, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "\(message): count", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(Swift.abs(a - e) <= tol * Swift.max(1, Swift.abs(e))) {
        XCTFail("\(message): element \(i) is \(a), expected \(e)", file: file, line: line)
        return
    }
}

/// Direct (loop) 2-D convolution, the reference for the im2col implementation.
func naiveConv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: Conv2dGeometry) -> (shape: [Int], data: [Float]) {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let oh = (h + 2 * g.padding.h - g.dilation.h * (kh - 1) - 1) / g.stride.h + 1
    let ow = (wd + 2 * g.padding.w - g.dilation.w * (kw - 1) - 1) / g.stride.w + 1
    var out = [Float](repeating: 0, count: n * o * oh * ow)
    for i in 0..<n {
        for f in 0..<o {
            for y in 0..<oh {
                for xo in 0..<ow {
                    var s: Float = b?.data[f] ?? 0
                    for ch in 0..<c {
                        for ki in 0..<kh {
                            for kj in 0..<kw {
                                let iy = y * g.stride.h - g.padding.h + ki * g.dilation.h
                                let ix = xo * g.stride.w - g.padding.w + kj * g.dilation.w
                                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                s += x.data[((i * c + ch) * h + iy) * wd + ix] * w.data[((f * c + ch) * kh + ki) * kw + kj]
                            }
                        }
                    }
                    out[((i * o + f) * oh + y) * ow + xo] = s
                }
            }
        }
    }
    return ([n, o, oh, ow], out)
}
