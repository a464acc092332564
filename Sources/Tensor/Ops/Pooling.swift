// Pooling and resampling over NCHW feature maps.

extension Tensor {
    var nchw: (n: Int, c: Int, h: Int, w: Int) {
        precondition(rank == 4, "expected an NCHW tensor, got shape \(shape)")
        return (shape[0], shape[1], shape[2], shape[3])
    }

    /// Max pooling; padded positions never win.
    public func maxPool2d(_ g: Conv2dGeometry) -> Tensor {
        let (n, c, h, w) = nchw
        let (oh, ow) = g.outputSize(h, w)
        var out = [Float](repeating: -.infinity, count: n * c * oh * ow)
        var argmax = [Int](repeating: -1, count: out.count)
        data.withUnsafeBufferPointer { x in
            for p in 0..<(n * c) {
                for y in 0..<oh {
                    for xo in 0..<ow {
                        let o = (p * oh + y) * ow + xo
                        for ki in 0..<g.kernel.h {
                            let ih = y * g.stride.h - g.padding.h + ki * g.dilation.h
                            guard ih >= 0 && ih < h else { continue }
                            for kj in 0..<g.kernel.w {
                                let iw = xo * g.stride.w - g.padding.w + kj * g.dilation.w
                                guard iw >= 0 && iw < w else { continue }
                                let i = (p * h + ih) * w + iw
                                if argmax[o] < 0 || x[i] > out[o] { out[o] = x[i]; argmax[o] = i }
                            }
                        }
                    }
                }
            }
        }
        return Tensor.result([n, c, oh, ow], out, [self]) { y in
            let gr = y.grad!
            y.inputs[0].accumulateGrad { gx in for o in 0..<argmax.count where argmax[o] >= 0 { gx[argmax[o]] += gr[o] } }
        }
    }

    /// Average pooling; padding counts as zeros in the average (PyTorch's default).
    public func avgPool2d(_ g: Conv2dGeometry) -> Tensor {
        let (n, c, h, w) = nchw
        let (oh, ow) = g.outputSize(h, w)
        let scale = 1 / Float(g.kernel.h * g.kernel.w)
        func window(_ p: Int, _ y: Int, _ xo: Int, _ body: (Int) -> Void) {
            for ki in 0..<g.kernel.h {
                let ih = y * g.stride.h - g.padding.h + ki * g.dilation.h
                guard ih >= 0 && ih < h else { continue }
                for kj in 0..<g.kernel.w {
                    let iw = xo * g.stride.w - g.padding.w + kj * g.dilation.w
                    if iw >= 0 && iw < w { body((p * h + ih) * w + iw) }
                }
            }
        }
        var out = [Float](repeating: 0, count: n * c * oh * ow)
        for p in 0..<(n * c) {
            for y in 0..<oh {
                for xo in 0..<ow {
                    var s: Float = 0
                    window(p, y, xo) { s += data[$0] }
                    out[(p * oh + y) * ow + xo] = s * scale
                }
            }
        }
        return Tensor.result([n, c, oh, ow], out, [self]) { y in
            let gr = y.grad!
            y.inputs[0].accumulateGrad { gx in
                for p in 0..<(n * c) {
                    for yy in 0..<oh {
                        for xo in 0..<ow {
                            let v = gr[(p * oh + yy) * ow + xo] * scale
                            window(p, yy, xo) { gx[$0] += v }
                        }
                    }
                }
            }
        }
    }

    /// Adaptive average pooling to `[outH, outW]` with PyTorch's bin edges
    /// (start = floor(i*H/outH), end = ceil((i+1)*H/outH)).
    public func adaptiveAvgPool2d(_ outH: Int, _ outW: Int) -> Tensor {
        let (n, c, h, w) = nchw
        func bins(_ size: Int, _ out: Int) -> [Range<Int>] {
            (0..<out).map { i in (i * size / out)..<(((i + 1) * size + out - 1) / out) }
        }
        let rows = bins(h, outH), cols = bins(w, outW)
        var out = [Float](repeating: 0, count: n * c * outH * outW)
        for p in 0..<(n * c) {
            for (i, r) in rows.enumerated() {
                for (j, q) in cols.enumerated() {
                    var s: Float = 0
                    for y in r { for x in q { s += data[(p * h + y) * w + x] } }
                    out[(p * outH + i) * outW + j] = s / Float(r.count * q.count)
                }
            }
        }
        return Tensor.result([n, c, outH, outW], out, [self]) { y in
            let gr = y.grad!
            y.inputs[0].accumulateGrad { gx in
                for p in 0..<(n * c) {
                    for (i, r) in rows.enumerated() {
                        for (j, q) in cols.enumerated() {
                            let v = gr[(p * outH + i) * outW + j] / Float(r.count * q.count)
                            for yy in r { for x in q { gx[(p * h + yy) * w + x] += v } }
                        }
                    }
                }
            }
        }
    }

    /// Nearest-neighbour resize to `[outH, outW]` (PyTorch 'nearest': source = floor(dst * in / out)).
    public func upsampleNearest(_ outH: Int, _ outW: Int) -> Tensor {
        let (n, c, h, w) = nchw
        let srcRow = (0..<outH).map { $0 * h / outH }, srcCol = (0..<outW).map { $0 * w / outW }
        var out = [Float](repeating: 0, count: n * c * outH * outW)
        data.withUnsafeBufferPointer { x in
            for p in 0..<(n * c) {
                for i in 0..<outH {
                    for j in 0..<outW {
                        out[(p * outH + i) * outW + j] = x[(p * h + srcRow[i]) * w + srcCol[j]]
                    }
                }
            }
        }
        return Tensor.result([n, c, outH, outW], out, [self]) { y in
            let gr = y.grad!
            y.inputs[0].accumulateGrad { gx in
                for p in 0..<(n * c) {
                    for i in 0..<outH {
                        for j in 0..<outW {
                            gx[(p * h + srcRow[i]) * w + srcCol[j]] += gr[(p * outH + i) * outW + j]
                        }
                    }
                }
            }
        }
    }

    /// Nearest-neighbour upsampling by an integer factor (the FPN top-down path).
    public func upsampleNearest(scale: Int) -> Tensor {
        let (_, _, h, w) = nchw
        return upsampleNearest(h * scale, w * scale)
    }
}
