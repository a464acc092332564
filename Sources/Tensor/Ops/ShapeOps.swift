// Views and rearrangements: reshape, permute/transpose, slicing, joining, indexing.

extension Tensor {
    /// Same values, new shape; one dimension may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            s[i] = count / known
        }
        precondition(s.elementCount == count, "cannot reshape \(shape) (\(count) values) to \(newShape)")
        return Tensor.result(s, data, [self]) { y in
            y.inputs[0].accumulateGrad(adding: y.grad!)
        }
    }

    /// Inserts a dimension of size 1 at `axis`.
    public func unsqueezed(_ axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        var s = shape
        s.insert(1, at: a)
        return reshaped(s)
    }

    /// Reorders dimensions: output dimension i is input dimension `perm[i]`.
    public func permuted(_ perm: [Int]) -> Tensor {
        precondition(perm.sorted() == Array(0..<rank), "bad permutation \(perm) for shape \(shape)")
        if perm == Array(0..<rank) { return reshaped(shape) }
        let outShape = perm.map { shape[$0] }
        // Swapping the last two axes (feature maps to tokens and back) runs as cache-blocked transposes.
        if perm == Array(0..<(rank - 2)) + [rank - 1, rank - 2] {
            let (rows, cols) = (shape[rank - 2], shape[rank - 1])
            let batch = count / Swift.max(rows * cols, 1)
            let out = Tensor.batchedTranspose(data, batch: batch, rows: rows, cols: cols)
            return Tensor.result(outShape, out, [self]) { y in
                y.inputs[0].accumulateGrad(taking: Tensor.batchedTranspose(y.grad!, batch: batch, rows: cols, cols: rows))
            }
        }
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let strides = perm.map { inStrides[$0] }
        let out = Tensor.gatherStrided(data, outShape, strides)
        return Tensor.result(outShape, out, [self]) { y in
            let x = y.inputs[0]
            let g = y.grad!
            x.accumulateGrad { gx in
                Tensor.walkStrided(outShape, strides) { o, i in gx[i] += g[o] }
            }
        }
    }

    /// `[batch, rows, cols]` -> `[batch, cols, rows]` in 16 x 16 tiles (each tile's reads and writes
    /// stay within a few cache lines), batches and tile rows spread over the cores.
    static func batchedTranspose(_ src: [Float], batch: Int, rows: Int, cols: Int) -> [Float] {
        let n = batch * rows * cols, tile = 16
        var out = [Float](unsafeUninitializedCapacity: n) { _, c in c = n }
        let tileRows = (rows + tile - 1) / tile
        src.withUnsafeBufferPointer { ps in
            out.withUnsafeMutableBufferPointer { po in
                let (ps, po) = (ps.baseAddress!, po.baseAddress!)
                Threads.forEachChunk(batch * tileRows, minChunk: Swift.max(1, Threads.parallelThreshold / Swift.max(tile * cols, 1))) { range in
                    for item in range {
                        let (b, r0) = (item / tileRows, (item % tileRows) * tile)
                        let (from, to) = (ps + b * rows * cols, po + b * rows * cols)
                        let r1 = Swift.min(rows, r0 + tile)
                        var c0 = 0
                        while c0 < cols {
                            let c1 = Swift.min(cols, c0 + tile)
                            for r in r0..<r1 { for c in c0..<c1 { to[c &* rows &+ r] = from[r &* cols &+ c] } }
                            c0 += tile
                        }
                    }
                }
            }
        }
        return out
    }

    /// Swaps two dimensions.
    public func transposed(_ a0: Int = -2, _ a1: Int = -1) -> Tensor {
        var perm = Array(0..<rank)
        perm.swapAt(axis(a0), axis(a1))
        return permuted(perm)
    }

    /// Visits output positions of a strided view in row-major order with their source index.
    @inline(__always)
    static func walkStrided(_ shape: [Int], _ strides: [Int], _ body: (Int, Int) -> Void) {
        let r = shape.count
        let n = shape.elementCount
        guard n > 0 else { return }
        if r == 0 { body(0, 0); return }
        let last = shape[r - 1], ls = strides[r - 1]
        var index = [Int](repeating: 0, count: r)
        var base = 0, o = 0
        while o < n {
            for j in 0..<last { body(o &+ j, base &+ j &* ls) }
            o += last
            var d = r - 2
            while d >= 0 {
                index[d] += 1
                base += strides[d]
                if index[d] < shape[d] { break }
                base -= strides[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    static func gatherStrided(_ src: [Float], _ shape: [Int], _ strides: [Int]) -> [Float] {
        let n = shape.elementCount
        var out = [Float](unsafeUninitializedCapacity: n) { _, c in c = n }
        src.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in walkStrided(shape, strides) { i, j in o[i] = s[j] } }
        }
        return out
    }

    /// The sub-range `range` of dimension `axis`.
    public func slice(axis a: Int, _ range: Range<Int>) -> Tensor {
        let ax = axis(a)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax], "slice \(range) out of bounds for dimension \(ax) of \(shape)")
        let v = AxisView(shape, axis: ax)
        var outShape = shape
        outShape[ax] = range.count
        let rowIn = v.length * v.inner, rowOut = range.count * v.inner, start = range.lowerBound * v.inner
        var out = [Float](unsafeUninitializedCapacity: v.outer * rowOut) { _, c in c = v.outer * rowOut }
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<v.outer {
                    (o.baseAddress! + i * rowOut).update(from: x.baseAddress! + i * rowIn + start, count: rowOut)
                }
            }
        }
        return Tensor.result(outShape, out, [self]) { y in
            let g = y.grad!
            y.inputs[0].accumulateGrad { gx in
                for i in 0..<v.outer { for j in 0..<rowOut { gx[i * rowIn + start + j] += g[i * rowOut + j] } }
            }
        }
    }

    /// Splits dimension `axis` into consecutive pieces of the given sizes.
    public func split(_ sizes: [Int], axis a: Int) -> [Tensor] {
        let ax = axis(a)
        precondition(sizes.reduce(0, +) == shape[ax], "split sizes \(sizes) do not sum to \(shape[ax])")
        var start = 0
        return sizes.map { s in
            defer { start += s }; return slice(axis: ax, start..<(start + s))
        }
    }

    /// Joins tensors along an existing dimension.
    public static func concat(_ parts: [Tensor], axis a: Int) -> Tensor {
        precondition(!parts.isEmpty, "concat of nothing")
        let ax = parts[0].axis(a)
        var outShape = parts[0].shape
        outShape[ax] = 0
        for p in parts {
            var s = p.shape
            s[ax] = 0
            precondition(
                s
                    == {
                        var t = parts[0].shape; t[ax] = 0; return t
                    }(), "concat shapes differ: \(parts.map(\.shape))")
            outShape[ax] += p.shape[ax]
        }
        let v = AxisView(outShape, axis: ax)
        let rowOut = v.length * v.inner
        let rows = parts.map { $0.shape[ax] * v.inner }
        let offsets = rows.reduce(into: [0]) { $0.append($0.last! + $1) }
        var out = [Float](unsafeUninitializedCapacity: outShape.elementCount) { _, c in c = outShape.elementCount }
        out.withUnsafeMutableBufferPointer { o in
            for (k, p) in parts.enumerated() {
                p.data.withUnsafeBufferPointer { x in
                    for i in 0..<v.outer {
                        (o.baseAddress! + i * rowOut + offsets[k]).update(from: x.baseAddress! + i * rows[k], count: rows[k])
                    }
                }
            }
        }
        return result(outShape, out, parts) { y in
            y.grad!.withUnsafeBufferPointer { pg in
                let g = pg.baseAddress!
                for (k, p) in y.inputs.enumerated() where p.requiresGrad {
                    // Each part's rows are copied out of the gradient (added when the part already has one).
                    p.accumulateGradBLAS(overwrites: true) { gp, beta in
                        for i in 0..<v.outer {
                            let (dst, src) = (gp + i * rows[k], g + i * rowOut + offsets[k])
                            if beta == 0 { dst.update(from: src, count: rows[k]) } else { for j in 0..<rows[k] { dst[j] += src[j] } }
                        }
                    }
                }
            }
        }
    }

    /// Joins equally shaped tensors along a new dimension.
    public static func stack(_ parts: [Tensor], axis a: Int = 0) -> Tensor {
        concat(parts.map { $0.unsqueezed(a) }, axis: a)
    }

    /// Picks entries `indices` along `axis` (repeats allowed).
    public func indexSelect(axis a: Int, _ indices: [Int]) -> Tensor {
        let ax = axis(a)
        let v = AxisView(shape, axis: ax)
        precondition(indices.allSatisfy { $0 >= 0 && $0 < v.length }, "indexSelect index out of range 0..<\(v.length)")
        var outShape = shape
        outShape[ax] = indices.count
        let n = outShape.elementCount
        var out = [Float](unsafeUninitializedCapacity: n) { _, c in c = n }
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<v.outer {
                    for (j, idx) in indices.enumerated() {
                        (o.baseAddress! + (i * indices.count + j) * v.inner)
                            .update(from: x.baseAddress! + (i * v.length + idx) * v.inner, count: v.inner)
                    }
                }
            }
        }
        return Tensor.result(outShape, out, [self]) { y in
            let g = y.grad!
            y.inputs[0].accumulateGrad { gx in
                for i in 0..<v.outer {
                    for (j, idx) in indices.enumerated() {
                        let src = (i * indices.count + j) * v.inner, dst = (i * v.length + idx) * v.inner
                        for t in 0..<v.inner { gx[dst + t] += g[src + t] }
                    }
                }
            }
        }
    }

    /// `torch.gather`: out[..., j, ...] = self[..., index[..., j, ...], ...] along `axis`.
    /// `index` has this tensor's shape except along `axis`.
    public func gather(axis a: Int, index: [Int], indexShape: [Int]) -> Tensor {
        let ax = axis(a)
        precondition(indexShape.count == rank && index.count == indexShape.elementCount, "gather index shape \(indexShape) does not fit \(shape)")
        for d in 0..<rank where d != ax {
            precondition(indexShape[d] == shape[d], "gather index shape \(indexShape) differs from \(shape) off the axis")
        }
        let v = AxisView(shape, axis: ax), k = indexShape[ax]
        precondition(index.allSatisfy { $0 >= 0 && $0 < v.length }, "gather index out of range 0..<\(v.length)")
        func source(_ o: Int) -> Int {
            let i = o / (k * v.inner), t = o % v.inner
            return (i * v.length + index[o]) * v.inner + t
        }
        let out = (0..<index.count).map { data[source($0)] }
        return Tensor.result(indexShape, out, [self]) { y in
            let g = y.grad!
            y.inputs[0].accumulateGrad { gx in for o in 0..<index.count { gx[source(o)] += g[o] } }
        }
    }

    /// Replaces values where `mask` (broadcastable, nonzero = masked) is set.
    public func maskedFill(_ mask: Tensor, _ value: Float) -> Tensor {
        let bc = Broadcast(shape, mask.shape)
        precondition(bc.shape == shape, "mask \(mask.shape) does not broadcast to \(shape)")
        var out = data
        var keep = [Bool](repeating: true, count: count)
        mask.data.withUnsafeBufferPointer { m in
            bc.forEach(rows: 0..<bc.rowCount) { o, _, im in
                if m[im] != 0 { out[o] = value; keep[o] = false }
            }
        }
        return Tensor.result(shape, out, [self]) { y in
            let g = y.grad!
            y.inputs[0].accumulateGrad { gx in for i in 0..<keep.count where keep[i] { gx[i] += g[i] } }
        }
    }
}

/// Rows of `weight` (`[vocab, dim]`) for each index; output shape `indexShape + [dim]`.
public func embedding(_ indices: [Int], shape indexShape: [Int], weight: Tensor) -> Tensor {
    precondition(weight.rank == 2, "embedding weight must be [vocab, dim], got \(weight.shape)")
    let (vocab, dim) = (weight.shape[0], weight.shape[1])
    precondition(indices.count == indexShape.elementCount, "embedding indices do not fill shape \(indexShape)")
    precondition(indices.allSatisfy { $0 >= 0 && $0 < vocab }, "embedding index out of range 0..<\(vocab)")
    var out = [Float](unsafeUninitializedCapacity: indices.count * dim) { _, c in c = indices.count * dim }
    weight.data.withUnsafeBufferPointer { w in
        out.withUnsafeMutableBufferPointer { o in
            for (i, idx) in indices.enumerated() {
                (o.baseAddress! + i * dim).update(from: w.baseAddress! + idx * dim, count: dim)
            }
        }
    }
    return Tensor.result(indexShape + [dim], out, [weight]) { y in
        let g = y.grad!
        weight.accumulateGrad { gw in
            for (i, idx) in indices.enumerated() { for t in 0..<dim { gw[idx * dim + t] += g[i * dim + t] } }
        }
    }
}
