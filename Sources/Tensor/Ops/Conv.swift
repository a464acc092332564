// 2-D convolution in NCHW: oneDNN's direct kernels (ConvDNNL.swift) or, as the fallback selected by
// `ConvolutionBackend`, im2col + one GEMM per image (and col2im in the backward pass).

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
        (
            (h + 2 * padding.h - dilation.h * (kernel.h - 1) - 1) / stride.h + 1,
            (w + 2 * padding.w - dilation.w * (kernel.w - 1) - 1) / stride.w + 1
        )
    }
}

/// Unfolds output rows `outRows` of one image `[C, H, W]` into columns `[C*kh*kw, outRows.count*OW]`.
private func im2col(
    _ x: UnsafePointer<Float>, c: Int, h: Int, w: Int, _ g: Conv2dGeometry,
    oh: Int, ow: Int, _ col: UnsafeMutablePointer<Float>, outRows: Range<Int>? = nil
) {
    let outRows = outRows ?? 0..<oh
    let kk = g.kernel.h * g.kernel.w, rows = c * kk, l = outRows.count * ow
    Threads.forEachChunk(rows, minChunk: Swift.max(1, Threads.parallelThreshold / Swift.max(l, 1))) { range in
        for r in range {
            let ch = r / kk, ki = (r % kk) / g.kernel.w, kj = r % g.kernel.w
            let plane = x + ch * h * w, dst = col + r * l
            let colOffset = kj * g.dilation.w - g.padding.w
            // Output columns whose input column falls inside the image.
            let owLo = Swift.min(ow, Swift.max(0, (-colOffset + g.stride.w - 1) / g.stride.w))
            let owHi = Swift.max(owLo, Swift.min(ow, (w - colOffset + g.stride.w - 1) / g.stride.w))
            for y in outRows {
                let ih = y * g.stride.h - g.padding.h + ki * g.dilation.h
                let row = dst + (y - outRows.lowerBound) * ow
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
private func col2im(
    _ col: UnsafePointer<Float>, c: Int, h: Int, w: Int, _ g: Conv2dGeometry,
    oh: Int, ow: Int, _ dx: UnsafeMutablePointer<Float>
) {
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
    for f in 0..<o {
        for ch in 0..<c {
            for i in 0..<kh {
                for j in 0..<kw {
                    out[((ch * o + f) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)] = w[((f * c + ch) * kh + i) * kw + j]
                }
            }
        }
    }
    return out
}

/// 2-D convolution: `x` `[N, C, H, W]`, `weight` `[O, C, kh, kw]`, `bias` `[O]`, on the kernels
/// `ConvolutionBackend.current` names.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, _ g: Conv2dGeometry) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4, "conv2d needs NCHW input and OCHW weight, got \(x.shape), \(weight.shape)")
    precondition(
        weight.shape[1] == x.shape[1] && weight.shape[2] == g.kernel.h && weight.shape[3] == g.kernel.w,
        "conv2d weight \(weight.shape) does not fit \(x.shape[1]) input channels and kernel \(g.kernel)")
    precondition(bias.map { $0.shape == [weight.shape[0]] } ?? true, "conv2d bias \(bias?.shape ?? []) does not fit \(weight.shape[0]) filters")
    let (oh, ow) = g.outputSize(x.shape[2], x.shape[3])
    precondition(oh > 0 && ow > 0, "conv2d output would be empty for input \(x.shape)")
    // oneDNN skips zero-volume work and would leave the outputs unwritten: empty shapes take im2col.
    if x.shape[0] > 0, x.shape[1] > 0, weight.shape[0] > 0, ConvolutionBackend.current == .onednn,
        let y = conv2dDNNL(x, weight: weight, bias: bias, g)
    {
        return y
    }
    return conv2dIm2col(x, weight: weight, bias: bias, g)
}

/// im2col convolution: images are spread over the cores, each with its own column buffer and a single-threaded GEMM.
func conv2dIm2col(_ x: Tensor, weight: Tensor, bias: Tensor?, _ g: Conv2dGeometry) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let o = weight.shape[0]
    let (oh, ow) = g.outputSize(h, w)
    let kk = g.kernel.h * g.kernel.w, ckk = c * kk, l = oh * ow, hw = h * w
    let workers = Threads.workers(for: n)
    // Output rows are unfolded a block at a time so each block's columns stay in the core's cache.
    let rowBlock = max(1, min(oh, columnBlockBudget / max(ckk * ow, 1)))
    let blocks = stride(from: 0, to: oh, by: rowBlock).map { $0..<min(oh, $0 + rowBlock) }
    let colSize = ckk * rowBlock * ow
    var out = [Float](unsafeUninitializedCapacity: n * o * l) { _, k in k = n * o * l }
    withScratch(workers * colSize) { cols in
        x.data.withUnsafeBufferPointer { px in
            weight.data.withUnsafeBufferPointer { pw in
                out.withUnsafeMutableBufferPointer { po in
                    let (px, pw, po) = (px.baseAddress!, pw.baseAddress!, po.baseAddress!)
                    Threads.forEachWorker(n) { worker, images in
                        let col = cols + worker * colSize
                        for i in images {
                            let dst = po + i * o * l
                            if let bias { for f in 0..<o { (dst + f * l).update(repeating: bias.data[f], count: l) } }
                            for rows in blocks {
                                im2col(px + i * c * hw, c: c, h: h, w: w, g, oh: oh, ow: ow, col, outRows: rows)
                                sgemm(
                                    transA: false, transB: false, m: o, n: rows.count * ow, k: ckk, pw, col, dst + rows.lowerBound * ow,
                                    beta: bias == nil ? 0 : 1, ldc: l)
                            }
                        }
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
                    let (pg, px, pw) = (pg.baseAddress!, px.baseAddress!, pw.baseAddress!)
                    if weight.requiresGrad {
                        // Each worker sums its images' dW; the partial sums are added in worker order.
                        withScratch(workers * (o * ckk + colSize)) { scratch in
                            Threads.forEachWorker(n) { worker, images in
                                let partial = scratch + worker * o * ckk, col = scratch + workers * o * ckk + worker * colSize
                                for i in images {
                                    for rows in blocks {
                                        im2col(px + i * c * hw, c: c, h: h, w: w, g, oh: oh, ow: ow, col, outRows: rows)
                                        sgemm(
                                            transA: false, transB: true, m: o, n: ckk, k: rows.count * ow,
                                            pg + i * o * l + rows.lowerBound * ow, col, partial,
                                            beta: i == images.lowerBound && rows.lowerBound == 0 ? 0 : 1, lda: l)
                                    }
                                }
                            }
                            weight.accumulateGrad { gw in
                                for worker in 0..<workers where n * (worker + 1) / workers > n * worker / workers {
                                    let partial = scratch + worker * o * ckk
                                    for j in 0..<(o * ckk) { gw[j] += partial[j] }
                                }
                            }
                        }
                    }
                    if x.requiresGrad, let transposed = g.transposedForInputGradient {
                        // dX is a convolution of dY with the flipped, channel-swapped kernel: one
                        // well-shaped GEMM per image instead of a K=O GEMM plus a col2im scatter.
                        let flipped = flippedKernel(pw, o: o, c: c, kh: g.kernel.h, kw: g.kernel.w)
                        let inBlock = max(1, min(h, columnBlockBudget / max(o * kk * w, 1)))
                        let inBlocks = stride(from: 0, to: h, by: inBlock).map { $0..<min(h, $0 + inBlock) }
                        withScratch(workers * o * kk * inBlock * w) { dcols in
                            x.accumulateGradBLAS(overwrites: n > 0) { gx, beta in
                                Threads.forEachWorker(n) { worker, images in
                                    let dcol = dcols + worker * o * kk * inBlock * w
                                    for i in images {
                                        for rows in inBlocks {
                                            im2col(pg + i * o * l, c: o, h: oh, w: ow, transposed, oh: h, ow: w, dcol, outRows: rows)
                                            sgemm(
                                                transA: false, transB: false, m: c, n: rows.count * w, k: o * kk, flipped, dcol,
                                                gx + i * c * hw + rows.lowerBound * w, beta: beta, ldc: hw)
                                        }
                                    }
                                }
                            }
                        }
                    } else if x.requiresGrad {
                        withScratch(workers * ckk * l) { cols in
                            x.accumulateGrad { gx in
                                Threads.forEachWorker(n) { worker, images in
                                    let col = cols + worker * ckk * l
                                    for i in images {
                                        sgemm(transA: true, transB: false, m: ckk, n: l, k: o, pw, pg + i * o * l, col)
                                        col2im(col, c: c, h: h, w: w, g, oh: oh, ow: ow, gx + i * c * hw)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if let bias, bias.requiresGrad {
                bias.accumulateGrad { gb in
                    for i in 0..<n {
                        for f in 0..<o {
                            var s: Float = 0
                            let row = pg.baseAddress! + (i * o + f) * l
                            for j in 0..<l { s += row[j] }
                            gb[f] += s
                        }
                    }
                }
            }
        }
    }
}

/// Floats of unfolded columns per block: about 1 MiB, so a block stays in a core's L2 cache
/// between im2col writing it and the GEMM reading it.
private let columnBlockBudget = 256 * 1024

/// Temporary float storage for the duration of `body` (uninitialised).
private func withScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
    let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
    defer { p.deallocate() }
    return body(p)
}
