import Foundation

// Elementwise arithmetic with NumPy broadcasting, and the unary maps the models use.
// Each op is a forward map plus the derivative it needs; the kernels are shared below.

extension Tensor {
    /// Binary op with broadcasting. `da`/`db` give d(out)/d(a) and d(out)/d(b) from (a, b, out).
    @inline(__always)
    static func binary(
        _ a: Tensor, _ b: Tensor,
        _ f: @escaping (Float, Float) -> Float,
        da: @escaping (Float, Float, Float) -> Float,
        db: @escaping (Float, Float, Float) -> Float, op: StaticString = #function
    ) -> Tensor {
        if a.shape == b.shape { return sameShapeBinary(a, b, f, da: da, db: db, op: op) }
        if let view = BlockBroadcast(full: a.shape, small: b.shape) {
            return blockBinary(full: a, small: b, smallFirst: false, view, f, dFull: da, dSmall: db, op: op)
        }
        if let view = BlockBroadcast(full: b.shape, small: a.shape) {
            return blockBinary(
                full: b, small: a, smallFirst: true, view, f, dFull: { x, s, y in db(s, x, y) },
                dSmall: { x, s, y in da(s, x, y) }, op: op)
        }
        let bc = Broadcast(a.shape, b.shape)
        let n = bc.shape.elementCount
        var out = [Float](repeating: 0, count: n)
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    bc.forEach(rows: 0..<bc.rowCount) { o, ia, ib in po[o] = f(pa[ia], pb[ib]) }
                }
            }
        }
        return result(bc.shape, out, [a, b], op: op) { y in
            y.grad!.withUnsafeBufferPointer { g in
                y.data.withUnsafeBufferPointer { py in
                    a.data.withUnsafeBufferPointer { pa in
                        b.data.withUnsafeBufferPointer { pb in
                            if a.requiresGrad {
                                a.accumulateGrad { ga in
                                    bc.forEach(rows: 0..<bc.rowCount) { o, ia, ib in
                                        ga[ia] += g[o] * da(pa[ia], pb[ib], py[o])
                                    }
                                }
                            }
                            if b.requiresGrad {
                                b.accumulateGrad { gb in
                                    bc.forEach(rows: 0..<bc.rowCount) { o, ia, ib in
                                        gb[ib] += g[o] * db(pa[ia], pb[ib], py[o])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func sameShapeBinary(
        _ a: Tensor, _ b: Tensor,
        _ f: @escaping (Float, Float) -> Float,
        da: @escaping (Float, Float, Float) -> Float,
        db: @escaping (Float, Float, Float) -> Float, op: StaticString
    ) -> Tensor {
        let n = a.count
        var out = [Float](unsafeUninitializedCapacity: n) { _, c in c = n }
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    Threads.forEachChunk(n) { r in for i in r { po[i] = f(pa[i], pb[i]) } }
                }
            }
        }
        return result(a.shape, out, [a, b], op: op) { y in
            y.grad!.withUnsafeBufferPointer { g in
                y.data.withUnsafeBufferPointer { py in
                    a.data.withUnsafeBufferPointer { pa in
                        b.data.withUnsafeBufferPointer { pb in
                            // A fresh gradient is written directly rather than zeroed and added to.
                            if a.requiresGrad {
                                a.accumulateGradBLAS(overwrites: true) { ga, beta in
                                    Threads.forEachChunk(n) { r in
                                        if beta == 0 {
                                            for i in r { ga[i] = g[i] * da(pa[i], pb[i], py[i]) }
                                        } else {
                                            for i in r { ga[i] += g[i] * da(pa[i], pb[i], py[i]) }
                                        }
                                    }
                                }
                            }
                            if b.requiresGrad {
                                b.accumulateGradBLAS(overwrites: true) { gb, beta in
                                    Threads.forEachChunk(n) { r in
                                        if beta == 0 {
                                            for i in r { gb[i] = g[i] * db(pa[i], pb[i], py[i]) }
                                        } else {
                                            for i in r { gb[i] += g[i] * db(pa[i], pb[i], py[i]) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Unary op; `d` gives d(out)/d(x) from (x, out).
    @inline(__always)
    func unary(_ f: @escaping (Float) -> Float, d: @escaping (Float, Float) -> Float, op: StaticString = #function) -> Tensor {
        let n = count
        var out = [Float](unsafeUninitializedCapacity: n) { _, c in c = n }
        data.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                Threads.forEachChunk(n) { r in for i in r { po[i] = f(px[i]) } }
            }
        }
        return Tensor.result(shape, out, [self], op: op) { y in
            let x = y.inputs[0]
            y.grad!.withUnsafeBufferPointer { g in
                y.data.withUnsafeBufferPointer { py in
                    x.data.withUnsafeBufferPointer { px in
                        x.accumulateGradBLAS(overwrites: true) { gx, beta in
                            Threads.forEachChunk(n) { r in
                                if beta == 0 { for i in r { gx[i] = g[i] * d(px[i], py[i]) } } else { for i in r { gx[i] += g[i] * d(px[i], py[i]) } }
                            }
                        }
                    }
                }
            }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        if a.shape == b.shape { return addSameShape(a, b) }
        return binary(a, b, { $0 + $1 }, da: { _, _, _ in 1 }, db: { _, _, _ in 1 })
    }

    /// a + b of one shape (residual connections): the backward pass hands the output's gradient to
    /// each input as it is (arrays are copy-on-write), without a pass over it, when nothing has
    /// accumulated there yet.
    private static func addSameShape(_ a: Tensor, _ b: Tensor) -> Tensor {
        let n = a.count
        var out = [Float](unsafeUninitializedCapacity: n) { _, c in c = n }
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    Threads.forEachChunk(n) { r in for i in r { po[i] = pa[i] + pb[i] } }
                }
            }
        }
        return result(a.shape, out, [a, b], op: "add") { y in
            for input in [a, b] where input.requiresGrad { input.accumulateGrad(taking: y.grad!) }
        }
    }
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, { $0 - $1 }, da: { _, _, _ in 1 }, db: { _, _, _ in -1 })
    }
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, { $0 * $1 }, da: { _, b, _ in b }, db: { a, _, _ in a })
    }
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, { $0 / $1 }, da: { _, b, _ in 1 / b }, db: { _, b, y in -y / b })
    }
    /// Elementwise maximum; the gradient goes to `a` on ties.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary(a, b, { Swift.max($0, $1) }, da: { a, b, _ in a >= b ? 1 : 0 }, db: { a, b, _ in a >= b ? 0 : 1 })
    }
    /// Elementwise minimum; the gradient goes to `a` on ties.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary(a, b, { Swift.min($0, $1) }, da: { a, b, _ in a <= b ? 1 : 0 }, db: { a, b, _ in a <= b ? 0 : 1 })
    }

    public static func + (a: Tensor, s: Float) -> Tensor { a.unary({ $0 + s }, d: { _, _ in 1 }) }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    public static func - (s: Float, a: Tensor) -> Tensor { a.unary({ s - $0 }, d: { _, _ in -1 }) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.unary({ $0 * s }, d: { _, _ in s }) }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    public static prefix func - (a: Tensor) -> Tensor { a * -1 }

    public func exp() -> Tensor { unary({ Foundation.exp($0) }, d: { _, y in y }) }
    public func log() -> Tensor { unary({ Foundation.log($0) }, d: { x, _ in 1 / x }) }
    public func sqrt() -> Tensor { unary({ $0.squareRoot() }, d: { _, y in 0.5 / y }) }
    public func pow(_ p: Float) -> Tensor {
        unary({ Foundation.pow($0, p) }, d: { x, _ in p * Foundation.pow(x, p - 1) })
    }
    public func abs() -> Tensor { unary({ Swift.abs($0) }, d: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
    public func clamp(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
        unary({ Swift.min(Swift.max($0, lo), hi) }, d: { x, _ in x >= lo && x <= hi ? 1 : 0 })
    }
    /// max(x, 0), eight values at a time: the most frequent activation pays no closure call or
    /// branch per value (NaN stays NaN; the gradient passes where the output is positive).
    public func relu() -> Tensor {
        let n = count
        var out = [Float](unsafeUninitializedCapacity: n) { _, c in c = n }
        data.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                Threads.forEachChunk(n) { r in
                    forEachVector(r, po.baseAddress!) { i in
                        let v = load(px.baseAddress!, i, r.upperBound)
                        return v.replacing(with: 0, where: v .< 0)
                    }
                }
            }
        }
        return Tensor.result(shape, out, [self]) { y in
            y.grad!.withUnsafeBufferPointer { g in
                y.data.withUnsafeBufferPointer { py in
                    y.inputs[0].accumulateGradBLAS(overwrites: true) { gx, beta in
                        Threads.forEachChunk(n) { r in
                            forEachVector(r, gx) { i in
                                let passed = load(g.baseAddress!, i, r.upperBound)
                                    .replacing(with: 0, where: .!(load(py.baseAddress!, i, r.upperBound) .> 0))
                                return beta == 0 ? passed : passed + load(UnsafePointer(gx), i, r.upperBound)
                            }
                        }
                    }
                }
            }
        }
    }

    public func tanh() -> Tensor { vectorUnary(tanhVector, derivative: { y in 1 - y * y }) }
    public func sigmoid() -> Tensor { vectorUnary(sigmoidVector, derivative: { y in y * (1 - y) }) }
    /// log(1 + e^x), computed without overflow.
    public func softplus() -> Tensor {
        unary({ Swift.max($0, 0) + Foundation.log1p(Foundation.exp(-Swift.abs($0))) }, d: { x, _ in Tensor.sigmoid(x) })
    }
    /// GELU with the exact erf form (PyTorch's default).
    public func gelu() -> Tensor {
        unary(
            { 0.5 * $0 * (1 + erf($0 * 0.70710678)) },
            d: { x, _ in 0.5 * (1 + erf(x * 0.70710678)) + x * 0.39894228 * Foundation.exp(-0.5 * x * x) })
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    }
}
