// The broadcasts the models make almost every time: a full tensor with one whose values run along a
// single block of its axes (a bias [d] over [.., d], a per-channel scale [1, C, 1, 1] over
// [N, C, H, W], a scalar). Viewed as `[outer, mid, inner]` against `[mid]`, they run as parallel
// loops with no per-element index arithmetic; the small operand's gradient is a reduction over
// outer and inner.

/// `full` viewed as `[outer, mid, inner]` with the small operand's values along `mid`.
struct BlockBroadcast {
    let outer: Int, mid: Int, inner: Int

    /// Nil unless `small` broadcasts to `full` (unchanged) along one contiguous block of axes.
    init?(full: [Int], small: [Int]) {
        guard small.count <= full.count else { return nil }
        let padded = [Int](repeating: 1, count: full.count - small.count) + small
        let kept = padded.indices.filter { padded[$0] != 1 }
        guard kept.allSatisfy({ padded[$0] == full[$0] }) else { return nil }
        let (s, e) = (kept.first ?? full.count, (kept.last ?? full.count - 1) + 1)
        // Axes inside the block that the small operand broadcasts over break the block.
        guard (s..<e).allSatisfy({ padded[$0] == full[$0] || full[$0] == 1 }) else { return nil }
        outer = full[..<s].reduce(1, *)
        mid = full[s..<e].reduce(1, *)
        inner = full[e...].reduce(1, *)
    }
}

extension Tensor {
    /// `f(full, small)` (or `f(small, full)` when `smallFirst`) over a block broadcast, with derivatives
    /// `dFull`, `dSmall` taking (full value, small value, output). Inlined so that the closures are too.
    @inline(__always)
    static func blockBinary(
        full: Tensor, small: Tensor, smallFirst: Bool, _ view: BlockBroadcast,
        _ f: @escaping (Float, Float) -> Float,
        dFull: @escaping (Float, Float, Float) -> Float, dSmall: @escaping (Float, Float, Float) -> Float,
        op: StaticString
    ) -> Tensor {
        let (outer, mid, inner) = (view.outer, view.mid, view.inner)
        let n = full.count
        let rowsPerChunk = Swift.max(1, Threads.parallelThreshold / Swift.max(inner, 1))
        let valuesPerChunk = Swift.max(1, Threads.parallelThreshold / Swift.max(outer &* inner, 1))
        var out = [Float](unsafeUninitializedCapacity: n) { _, c in c = n }
        full.data.withUnsafeBufferPointer { px in
            small.data.withUnsafeBufferPointer { ps in
                out.withUnsafeMutableBufferPointer { po in
                    let (px, ps, po) = (px.baseAddress!, ps.baseAddress!, po.baseAddress!)
                    Threads.forEachChunk(outer &* mid, minChunk: rowsPerChunk) { rows in
                        var m = rows.lowerBound % mid  // the small operand's index, stepped without a division per row
                        for row in rows {
                            let s = ps[m], base = row &* inner
                            if smallFirst {
                                for i in base..<(base &+ inner) { po[i] = f(s, px[i]) }
                            } else {
                                for i in base..<(base &+ inner) { po[i] = f(px[i], s) }
                            }
                            m &+= 1
                            if m == mid { m = 0 }
                        }
                    }
                }
            }
        }
        let inputs = smallFirst ? [small, full] : [full, small]
        return result(full.shape, out, inputs, op: op) { y in
            y.grad!.withUnsafeBufferPointer { pg in
                y.data.withUnsafeBufferPointer { py in
                    full.data.withUnsafeBufferPointer { px in
                        small.data.withUnsafeBufferPointer { ps in
                            let (pg, py, px, ps) = (pg.baseAddress!, py.baseAddress!, px.baseAddress!, ps.baseAddress!)
                            if full.requiresGrad {
                                full.accumulateGrad { gx in
                                    Threads.forEachChunk(outer &* mid, minChunk: rowsPerChunk) { rows in
                                        var m = rows.lowerBound % mid
                                        for row in rows {
                                            let s = ps[m], base = row &* inner
                                            for i in base..<(base &+ inner) { gx[i] += pg[i] * dFull(px[i], s, py[i]) }
                                            m &+= 1
                                            if m == mid { m = 0 }
                                        }
                                    }
                                }
                            }
                            if small.requiresGrad {
                                small.accumulateGrad { gs in
                                    // Parallel over the small operand's values: each chunk owns its values' sums.
                                    Threads.forEachChunk(mid, minChunk: valuesPerChunk) { ms in
                                        for o in 0..<outer {
                                            for m in ms {
                                                let s = ps[m], base = (o &* mid &+ m) &* inner
                                                var acc: Float = 0
                                                for i in base..<(base &+ inner) { acc += pg[i] * dSmall(px[i], s, py[i]) }
                                                gs[m] += acc
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
    }
}
