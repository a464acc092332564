import Foundation

extension Tensor {
    /// Softmax along `axis`. Rows that are entirely -inf (fully masked) give zeros, not NaN.
    public func softmax(axis a: Int = -1) -> Tensor {
        let v = AxisView(shape, axis: axis(a))
        let out = Tensor.softmaxKernel(data, v, log: false)
        return Tensor.result(shape, out, [self]) { y in
            let x = y.inputs[0]
            y.grad!.withUnsafeBufferPointer { g in
                y.data.withUnsafeBufferPointer { p in
                    x.accumulateGrad { gx in
                        // dx = y * (g - sum(g * y)) along the axis.
                        Tensor.forEachLane(v) { base, step in
                            var dot: Float = 0
                            for l in 0..<v.length { dot += g[base + l * step] * p[base + l * step] }
                            for l in 0..<v.length {
                                let i = base + l * step
                                gx[i] += p[i] * (g[i] - dot)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Log-softmax along `axis`.
    public func logSoftmax(axis a: Int = -1) -> Tensor {
        let v = AxisView(shape, axis: axis(a))
        let out = Tensor.softmaxKernel(data, v, log: true)
        return Tensor.result(shape, out, [self]) { y in
            let x = y.inputs[0]
            y.grad!.withUnsafeBufferPointer { g in
                y.data.withUnsafeBufferPointer { lp in
                    x.accumulateGrad { gx in
                        // dx = g - softmax * sum(g) along the axis.
                        Tensor.forEachLane(v) { base, step in
                            var total: Float = 0
                            for l in 0..<v.length { total += g[base + l * step] }
                            for l in 0..<v.length {
                                let i = base + l * step
                                gx[i] += g[i] - Foundation.exp(lp[i]) * total
                            }
                        }
                    }
                }
            }
        }
    }

    /// Calls `body(base, step)` for every 1-D lane along the view's axis.
    @inline(__always)
    static func forEachLane(_ v: AxisView, _ body: (Int, Int) -> Void) {
        for i in 0..<v.outer { for t in 0..<v.inner { body(i * v.length * v.inner + t, v.inner) } }
    }

    static func softmaxKernel(_ x: [Float], _ v: AxisView, log: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                let lanes = v.outer * v.inner
                Threads.forEachChunk(lanes, minChunk: Swift.max(1, Threads.parallelThreshold / Swift.max(v.length, 1))) { range in
                    for lane in range {
                        let base = (lane / v.inner) * v.length * v.inner + lane % v.inner, step = v.inner
                        var m = -Float.infinity
                        for l in 0..<v.length { m = Swift.max(m, px[base + l * step]) }
                        if m == -.infinity {
                            for l in 0..<v.length { po[base + l * step] = log ? -.infinity : 0 }
                            continue
                        }
                        var total: Float = 0
                        for l in 0..<v.length { total += Foundation.exp(px[base + l * step] - m) }
                        let logZ = m + Foundation.log(total)
                        for l in 0..<v.length {
                            let i = base + l * step
                            po[i] = log ? px[i] - logZ : Foundation.exp(px[i] - logZ)
                        }
                    }
                }
            }
        }
        return out
    }
}
