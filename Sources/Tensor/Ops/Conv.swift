// 2-D convolution in NCHW as im2col + one GEMM per image (and col2im in the backward pass).

/// Geometry of a 2-D convolution or pooling window.
public struct Conv2dGeometry: Equatable, Sendable {
    public var kernel: (h: Int, w: Int)
    public var stride: (h: Int, w: Int) = (1, 1)
    public var padding: (h: Int, w: Int) = (0, 0)
    public var dilation: (h: Int, w: Int) = (1, 1)

    public init(kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        self.kernel = (kernel, kernel); self.stride = (stride, stride)
        self.padding = (padding, padding); self.dilation = (dilation, dilation)
    }

    public init(kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int) = (1, 1)) {
        self.kernel = kernel; self.stride = stride; self.padding = padding; self.dilation = dilation
    }

    public static func == (l: Self, r: Self) -> Bool {
        l.kernel == r.kernel && l.stride == r.stride && l.padding == r.padding && l.dilation == r.dilation
    }

    /// For stride 1, the geometry under which convolving dY gives dX (padding d(k-1) - p), if valid.
    var transposedForInputGradient: Conv2dGeometry? {
        guard stride == (1, 1) else { return nil }
        let p = (dilation.h * (kernel.h - 1) - padding.h, dilation.w * (kernel.w - 1) - padding.w)
        guard p.0 >= 0, p.1 >= 0 else { return nil }
        return Conv2dGeometry(kernel: kernel, stride: (1, 1), padding: p, dilation: dilation)
    }

    func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padding.h - dilation.h * (kernel.h - 1) - 1) / stride.h + 1,
         (w + 2 * padding.w - dilation.w * (kernel.w - 1) - 1) / stride.w + 1)
    }
}

/// Unfolds one image `[C, H, W]` into columns `[C*kh*kw, OH*OW]`.
private func im2col(_ x: UnsafePointer<Float>, c: Int, h: Int, w: Int, _ g: Conv2dGeometry,
                    oh: Int, ow: Int, _ col: UnsafeMutablePointer<Float>) {
    let kk = g.kernel.h * g.kernel.w, rows = c * kk, l = oh * ow
    Threads.forEachChunk(rows, minChunk: Swift.max(1, Threads.parallelThreshold / Swift.max(l, 1))) { range in
        for r in range {
            let ch = r / kk, ki = (r % kk) / g.kernel.w, kj = r % g.kernel.w
            let plane = x + ch * h * w, dst = col + r * l
            let colOffset = kj * g.dilation.w - g.padding.w
            // Output columns whose input column falls inside the image.
            let owLo = Swift.min(ow, Swift.max(0, (-colOffset + g.stride.w - 1) / g.stride.w))
            let owHi = Swift.max(owLo, Swift.min(ow, (w - colOffset + g.stride.w - 1) / g.stride.w))
            for y in 0..<oh {
                let ih = y * g.stride.h - g.padding.h + ki * g.dilation.h
                let row = dst + y * ow
                if ih < 0 || ih >= h { row.update(repeating: 0, count: ow); continue }
                let src = plane + ih * w + colOffset
                for x in 0..<owLo { row[x] = 0 }
                if g.stride.w == 1 {
                    (row + owLo).update(from: src + owLo, count: owHi - owLo)
                } else {
                    for x in owLo..<owHi { row[x] = src[x * g.stride.w] }
                }
                for x in owHi..<ow { row[x] = 0 }
            }
        }
    }
}

/// Folds columns back onto one image's gradient, adding.
private func col2im(_ col: UnsafePointer<Float>, c: Int, h: Int, w: Int, _ g: Conv2dGeometry,
                    oh: Int, ow: Int, _ dx: UnsafeMutablePointer<Float>) {
    let kk = g.kernel.h * g.kernel.w, l = oh * ow
    // Parallel over channels: each channel's plane is written by its own rows only.
    Threads.forEachChunk(c, minChunk: Swift.max(1, Threads.parallelThreshold / Swift.max(kk * l, 1))) { range in
        for ch in range {
            let plane = dx + ch * h * w
            for k in 0..<kk {
                let ki = k / g.kernel.w, kj = k % g.kernel.w
                let src = col + (ch * kk + k) * l
                let colOffset = kj * g.dilation.w - g.padding.w
                let owLo = Swift.min(ow, Swift.max(0, (-colOffset + g.stride.w - 1) / g.stride.w))
                let owHi = Swift.max(owLo, Swift.min(ow, (w - colOffset + g.stride.w - 1) / g.stride.w))
                for y in 0..<oh {
                    let ih = y * g.stride.h - g.padding.h + ki * g.dilation.h
                    if ih < 0 || ih >= h { continue }
                    let dst = plane + ih * w + colOffset, row = src + y * ow
                    for x in owLo..<owHi { dst[x * g.stride.w] += row[x] }
                }
            }
        }
    }
}

/// W[o, c, i, j] -> W'[c, o, kh-1-i, kw-1-j].
private func flippedKernel(_ w: UnsafePointer<Float>, o: Int, c: Int, kh: Int, kw: Int) -> [Float] {
    var out = [Float](repeating: 0, count: o * c * kh * kw)
    for f in 0..<o { for ch in 0..<c { for i in 0..<kh { for j in 0..<kw {
        out[((ch * o + f) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)] = w[((f * c + ch) * kh + i) * kw + j]
    } } } }
    return out
}

/// 2-D convolution: `x` `[N, C, H, W]`, `weight` `[O, C, kh, kw]`, `bias` `[O]`.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, _ g: Conv2dGeometry) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4, "conv2d needs NCHW input and OCHW weight, got \(x.shape), \(weight.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let o = weight.shape[0]
    precondition(weight.shape[1] == c && weight.shape[2] == g.kernel.h && weight.shape[3] == g.kernel.w,
                 "conv2d weight \(weight.shape) does not fit \(c) input channels and kernel \(g.kernel)")
    let (oh, ow) = g.outputSize(h, w)
    precondition(oh > 0 && ow > 0, "conv2d output would be empty for input \(x.shape)")
    let ckk = c * g.kernel.h * g.kernel.w, l = oh * ow
    var col = [Float](unsafeUninitializedCapacity: ckk * l) { _, k in k = ckk * l }
    var out = [Float](unsafeUninitializedCapacity: n * o * l) { _, k in k = n * o * l }
    x.data.withUnsafeBufferPointer { px in
        weight.data.withUnsafeBufferPointer { pw in
            col.withUnsafeMutableBufferPointer { pc in
                out.withUnsafeMutableBufferPointer { po in
                    for i in 0..<n {
                        im2col(px.baseAddress! + i * c * h * w, c: c, h: h, w: w, g, oh: oh, ow: ow, pc.baseAddress!)
                        let dst = po.baseAddress! + i * o * l
                        if let bias {
                            for f in 0..<o { (dst + f * l).update(repeating: bias.data[f], count: l) }
                        }
                        sgemm(transA: false, transB: false, m: o, n: l, k: ckk, pw.baseAddress!, pc.baseAddress!, dst,
                              beta: bias == nil ? 0 : 1)
                    }
                }
            }
        }
    }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return Tensor.result([n, o, oh, ow], out, inputs) { y in
        y.grad!.withUnsafeBufferPointer { pg in
            x.data.withUnsafeBufferPointer { px in
                weight.data.withUnsafeBufferPointer { pw in
                    var col = [Float](unsafeUninitializedCapacity: ckk * l) { _, k in k = ckk * l }
                    col.withUnsafeMutableBufferPointer { pc in
                        let pc = pc.baseAddress!, pg = pg.baseAddress!
                        if weight.requiresGrad {
                            weight.accumulateGradBLAS(overwrites: n > 0) { gw, beta in
                                for i in 0..<n {
                                    im2col(px.baseAddress! + i * c * h * w, c: c, h: h, w: w, g, oh: oh, ow: ow, pc)
                                    sgemm(transA: false, transB: true, m: o, n: ckk, k: l, pg + i * o * l, pc, gw,
                                          beta: i == 0 ? beta : 1)
                                }
                            }
                        }
                        if x.requiresGrad, let transposed = g.transposedForInputGradient {
                            // dX is a convolution of dY with the flipped, channel-swapped kernel: one
                            // well-shaped GEMM per image instead of a K=O GEMM plus a col2im scatter.
                            let flipped = flippedKernel(pw.baseAddress!, o: o, c: c, kh: g.kernel.h, kw: g.kernel.w)
                            var dcol = [Float](unsafeUninitializedCapacity: o * g.kernel.h * g.kernel.w * h * w) { _, k in
                                k = o * g.kernel.h * g.kernel.w * h * w
                            }
                            x.accumulateGradBLAS(overwrites: n > 0) { gx, beta in
                                dcol.withUnsafeMutableBufferPointer { pd in
                                    for i in 0..<n {
                                        im2col(pg + i * o * l, c: o, h: oh, w: ow, transposed, oh: h, ow: w, pd.baseAddress!)
                                        sgemm(transA: false, transB: false, m: c, n: h * w, k: o * g.kernel.h * g.kernel.w,
                                              flipped, pd.baseAddress!, gx + i * c * h * w, beta: beta)
                                    }
                                }
                            }
                        } else if x.requiresGrad {
                            x.accumulateGrad { gx in
                                for i in 0..<n {
                                    sgemm(transA: true, transB: false, m: ckk, n: l, k: o, pw.baseAddress!, pg + i * o * l, pc)
                                    col2im(pc, c: c, h: h, w: w, g, oh: oh, ow: ow, gx + i * c * h * w)
                                }
                            }
                        }
                    }
                }
            }
            if let bias, bias.requiresGrad {
                bias.accumulateGrad { gb in
                    for i in 0..<n { for f in 0..<o {
                        var s: Float = 0
                        let row = pg.baseAddress! + (i * o + f) * l
                        for j in 0..<l { s += row[j] }
                        gb[f] += s
                    } }
                }
            }
        }
    }
}
