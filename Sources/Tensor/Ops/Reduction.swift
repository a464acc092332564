// Sums, means and maxima over axes.

extension Tensor {
    /// Sum of all elements, as a scalar tensor.
    public func sum() -> Tensor {
        var s: Float = 0
        data.withUnsafeBufferPointer { x in for v in x { s += v } }
        return Tensor.result([], [s], [self]) { y in
            let g = y.grad![0]
            y.inputs[0].accumulateGrad { gx in for i in 0..<y.inputs[0].count { gx[i] += g } }
        }
    }

    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Sum over one axis.
    public func sum(axis a: Int, keepDims: Bool = false) -> Tensor {
        let ax = axis(a)
        let v = AxisView(shape, axis: ax)
        var out = [Float](repeating: 0, count: v.outer * v.inner)
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<v.outer {
                    for l in 0..<v.length {
                        let src = (i * v.length + l) * v.inner, dst = i * v.inner
                        for t in 0..<v.inner { o[dst + t] += x[src + t] }
                    }
                }
            }
        }
        return Tensor.result(reducedShape(ax, keepDims), out, [self]) { y in
            let g = y.grad!
            y.inputs[0].accumulateGrad { gx in
                for i in 0..<v.outer {
                    for l in 0..<v.length {
                        let dst = (i * v.length + l) * v.inner, src = i * v.inner
                        for t in 0..<v.inner { gx[dst + t] += g[src + t] }
                    }
                }
            }
        }
    }

    /// Sum over several axes.
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        axes.map { axis($0) }.sorted(by: >).reduce(self) { $0.sum(axis: $1, keepDims: keepDims) }
    }

    public func mean(axis a: Int, keepDims: Bool = false) -> Tensor {
        sum(axis: a, keepDims: keepDims) * (1 / Float(shape[axis(a)]))
    }

    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = axes.map { shape[axis($0)] }.reduce(1, *)
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(n))
    }

    /// Maximum over one axis; the gradient flows to the first maximal entry.
    public func max(axis a: Int, keepDims: Bool = false) -> Tensor {
        let (values, _) = maxWithIndices(axis: a, keepDims: keepDims)
        return values
    }

    /// Maximum over one axis and the position of each maximum along it.
    public func maxWithIndices(axis a: Int, keepDims: Bool = false) -> (values: Tensor, indices: [Int]) {
        let ax = axis(a)
        let v = AxisView(shape, axis: ax)
        precondition(v.length > 0, "max over an empty dimension")
        var out = [Float](repeating: -.infinity, count: v.outer * v.inner)
        var arg = [Int](repeating: 0, count: v.outer * v.inner)
        data.withUnsafeBufferPointer { x in
            for i in 0..<v.outer {
                for l in 0..<v.length {
                    for t in 0..<v.inner {
                        let val = x[(i * v.length + l) * v.inner + t], o = i * v.inner + t
                        if val > out[o] || l == 0 { out[o] = val; arg[o] = l }
                    }
                }
            }
        }
        let y = Tensor.result(reducedShape(ax, keepDims), out, [self]) { y in
            let g = y.grad!
            y.inputs[0].accumulateGrad { gx in
                for i in 0..<v.outer {
                    for t in 0..<v.inner {
                        let o = i * v.inner + t
                        gx[(i * v.length + arg[o]) * v.inner + t] += g[o]
                    }
                }
            }
        }
        return (y, arg)
    }

    /// Index of the maximum along the last axis for each row (no gradient).
    public func argmaxLastAxis() -> [Int] {
        let n = shape.last ?? 1
        return (0..<(count / Swift.max(n, 1))).map { r in
            var best = 0
            for j in 1..<Swift.max(n, 1) where data[r * n + j] > data[r * n + best] { best = j }
            return best
        }
    }

    func reducedShape(_ ax: Int, _ keepDims: Bool) -> [Int] {
        var s = shape
        if keepDims { s[ax] = 1 } else { s.remove(at: ax) }
        return s
    }
}
