// Activations evaluated eight values at a time (the gates of R2Gen's relational memory call them
// on every step): the scalar library calls cost more than the rest of those steps.

extension Tensor {
    /// A unary op whose value `f` and derivative (from the output) are vector functions.
    @inline(__always)
    func vectorUnary(
        _ f: (SIMD8<Float>) -> SIMD8<Float>, derivative: @escaping (SIMD8<Float>) -> SIMD8<Float>,
        op: StaticString = #function
    ) -> Tensor {
        let n = count
        var out = [Float](unsafeUninitializedCapacity: n) { _, c in c = n }
        data.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                Threads.forEachChunk(n) { r in forEachVector(r, po.baseAddress!) { i in f(load(px.baseAddress!, i, r.upperBound)) } }
            }
        }
        return Tensor.result(shape, out, [self], op: op) { y in
            y.grad!.withUnsafeBufferPointer { g in
                y.data.withUnsafeBufferPointer { py in
                    y.inputs[0].accumulateGradBLAS(overwrites: true) { gx, beta in
                        Threads.forEachChunk(n) { r in
                            forEachVector(r, gx) { i in
                                let d = derivative(load(py.baseAddress!, i, r.upperBound)) * load(g.baseAddress!, i, r.upperBound)
                                return beta == 0 ? d : d + load(UnsafePointer(gx), i, r.upperBound)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Eight values from `i` (zeros past `end`).
@inline(__always)
func load(_ p: UnsafePointer<Float>, _ i: Int, _ end: Int) -> SIMD8<Float> {
    if i &+ 8 <= end { return UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) }
    var v = SIMD8<Float>()
    for k in 0..<(end &- i) { v[k] = p[i &+ k] }
    return v
}

/// Writes `value(i)` to `out[i..<i+8]` for every vector of `range` (the last one cut at its end).
@inline(__always)
func forEachVector(_ range: Range<Int>, _ out: UnsafeMutablePointer<Float>, _ value: (Int) -> SIMD8<Float>) {
    var i = range.lowerBound
    while i &+ 8 <= range.upperBound {
        UnsafeMutableRawPointer(out + i).storeBytes(of: value(i), as: SIMD8<Float>.self)
        i &+= 8
    }
    if i < range.upperBound {
        let v = value(i)
        for k in 0..<(range.upperBound &- i) { out[i &+ k] = v[k] }
    }
}

/// tanh as Cephes' tanhf: an odd polynomial below 0.625 (no cancellation near 0), 1 - 2 / (e^2|x| + 1) above.
@inline(__always)
func tanhVector(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let a = x.replacing(with: -x, where: x .< 0), z = x * x
    var p = SIMD8<Float>(repeating: -5.70498872745e-3)
    p = p * z + 2.06390887954e-2
    p = p * z - 5.37397155531e-2
    p = p * z + 1.33314422036e-1
    p = p * z - 3.33332819422e-1
    let small = x + x * z * p
    let large = 1 - 2 / (fastExp(2 * a) + 1)
    let signed = large.replacing(with: -large, where: x .< 0)
    return signed.replacing(with: small, where: a .< 0.625)
}

/// 1 / (1 + e^-x); e^-x saturates at e^88.3, so very negative x give a tiny value, not NaN.
@inline(__always)
func sigmoidVector(_ x: SIMD8<Float>) -> SIMD8<Float> { 1 / (1 + fastExp(-x)) }
