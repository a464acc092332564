import CDNNL
import Foundation
import Synchronization

// 2-D convolution through oneDNN's direct (JIT) kernels. Their blocked layouts are chosen by oneDNN
// (`format_tag::any`: with plain nchw it falls back to im2col + GEMM); activations are reordered at the
// boundary, and the forward pass keeps its blocked input for the weight gradient.
//
// Threads: the batch is split over the engine's workers and each worker runs single-threaded
// primitives on its slice, so oneDNN's OpenMP team is never started beside the engine's own workers
// (an idle OpenMP team spins and would steal the cores the next engine op needs). Only a batch
// smaller than the thread count (one image at inference) runs its primitives on OpenMP teams.

/// The shape of one convolution call, the primitive cache's key.
struct ConvolutionKey: Hashable {
    let batch: Int, channels: Int, height: Int, width: Int, filters: Int
    let kernel: [Int], stride: [Int], padding: [Int], dilation: [Int]
    let bias: Bool
    /// OpenMP threads the primitives were created for (oneDNN tunes its kernels to it).
    let threads: Int

    init(batch: Int, channels: Int, height: Int, width: Int, filters: Int, _ g: Conv2dGeometry, bias: Bool, threads: Int) {
        self.batch = batch; self.channels = channels; self.height = height; self.width = width; self.filters = filters
        kernel = [g.kernel.h, g.kernel.w]; stride = [g.stride.h, g.stride.w]
        padding = [g.padding.h, g.padding.w]; dilation = [g.dilation.h, g.dilation.w]
        self.bias = bias; self.threads = threads
    }
}

/// Forward, backward-data and backward-weights primitives for one shape, with their layouts.
final class DNNLConvolution: @unchecked Sendable {
    let forward: DNNLPrimitive, backwardData: DNNLPrimitive, backwardWeights: DNNLPrimitive
    let source: DNNLLayout, weights: DNNLLayout, destination: DNNLLayout, bias: dnnl_memory_desc_t
    let dataDiffDestination: DNNLLayout, dataWeights: DNNLLayout, diffSource: DNNLLayout
    let weightsSource: DNNLLayout, weightsDiffDestination: DNNLLayout, diffWeights: DNNLLayout

    init(_ key: ConvolutionKey) throws {
        let (oh, ow) = Conv2dGeometry(
            kernel: (key.kernel[0], key.kernel[1]), stride: (key.stride[0], key.stride[1]),
            padding: (key.padding[0], key.padding[1]),
            dilation: (key.dilation[0], key.dilation[1])
        ).outputSize(key.height, key.width)
        let srcDims = [key.batch, key.channels, key.height, key.width]
        let weightDims = [key.filters, key.channels, key.kernel[0], key.kernel[1]]
        let dstDims = [key.batch, key.filters, oh, ow]
        var (src, wei, dst) = (try anyDescriptor(srcDims), try anyDescriptor(weightDims), try anyDescriptor(dstDims))
        var biasDesc = key.bias ? try plainDescriptor([key.filters]) : dnnl_memory_desc_t()
        let strides = key.stride.map(Int64.init), pads = key.padding.map(Int64.init)
        let dilates = key.dilation.map { Int64($0 - 1) }  // oneDNN counts the gaps, not the step

        var fd = dnnl_convolution_desc_t(), wd = dnnl_convolution_desc_t()
        try withUnsafePointer(to: &biasDesc) { b in
            let biasOrNil = key.bias ? b : nil
            try dnnlCheck(
                dnnl_dilated_convolution_forward_desc_init(
                    &fd, dnnl_forward_training, dnnl_convolution_direct, &src, &wei,
                    biasOrNil, &dst, strides, dilates, pads, pads),
                "convolution_forward_desc_init")
            try dnnlCheck(
                dnnl_dilated_convolution_backward_weights_desc_init(
                    &wd, dnnl_convolution_direct, &src, &wei, biasOrNil, &dst,
                    strides, dilates, pads, pads),
                "convolution_backward_weights_desc_init")
        }
        let fpd = try primitiveDescriptor(&fd, "convolution forward \(srcDims) -> \(dstDims)")
        defer { dnnl_primitive_desc_destroy(fpd) }
        var dd = dnnl_convolution_desc_t()
        try dnnlCheck(
            dnnl_dilated_convolution_backward_data_desc_init(
                &dd, dnnl_convolution_direct, &src, &wei, &dst,
                strides, dilates, pads, pads), "convolution_backward_data_desc_init")
        let dpd = try primitiveDescriptor(&dd, hint: fpd, "convolution backward data \(srcDims)")
        defer { dnnl_primitive_desc_destroy(dpd) }
        let wpd = try primitiveDescriptor(&wd, hint: fpd, "convolution backward weights \(srcDims)")
        defer { dnnl_primitive_desc_destroy(wpd) }

        let md = { (pd: dnnl_primitive_desc_t, what: dnnl_query_t) in dnnl_primitive_desc_query_md(pd, what, 0).pointee }
        let (plainSrc, plainWei, plainDst) = (try plainDescriptor(srcDims), try plainDescriptor(weightDims), try plainDescriptor(dstDims))
        forward = try DNNLPrimitive(fpd)
        backwardData = try DNNLPrimitive(dpd)
        backwardWeights = try DNNLPrimitive(wpd)
        source = try DNNLLayout(user: plainSrc, primitive: md(fpd, dnnl_query_src_md), inbound: true, outbound: false)
        weights = try DNNLLayout(user: plainWei, primitive: md(fpd, dnnl_query_weights_md), inbound: true, outbound: false)
        destination = try DNNLLayout(user: plainDst, primitive: md(fpd, dnnl_query_dst_md), inbound: false, outbound: true)
        bias = biasDesc
        dataDiffDestination = try DNNLLayout(user: plainDst, primitive: md(dpd, dnnl_query_diff_dst_md), inbound: true, outbound: false)
        dataWeights = try DNNLLayout(user: plainWei, primitive: md(dpd, dnnl_query_weights_md), inbound: true, outbound: false)
        diffSource = try DNNLLayout(user: plainSrc, primitive: md(dpd, dnnl_query_diff_src_md), inbound: false, outbound: true)
        weightsSource = try DNNLLayout(user: plainSrc, primitive: md(wpd, dnnl_query_src_md), inbound: true, outbound: false)
        weightsDiffDestination = try DNNLLayout(user: plainDst, primitive: md(wpd, dnnl_query_diff_dst_md), inbound: true, outbound: false)
        diffWeights = try DNNLLayout(user: plainWei, primitive: md(wpd, dnnl_query_diff_weights_md), inbound: false, outbound: true)
    }

    /// y = conv(x) (+ bias) for one slice of the batch. Returns the input in the layout the weight
    /// gradient reads, when it is a reordered copy worth keeping for the backward pass.
    func runForward(
        x: UnsafeRawPointer, weight: UnsafeRawPointer, bias biasData: UnsafeRawPointer?,
        y: UnsafeMutableRawPointer, keepSource: Bool
    ) -> AlignedBuffer? {
        let (src, srcCopy) = source.inbound(x)
        let (wei, weiCopy) = weights.inbound(weight)
        destination.outbound(y) { dst in
            var args = [
                (DNNL_ARG_SRC, source.primitive, src), (DNNL_ARG_WEIGHTS, weights.primitive, wei),
                (DNNL_ARG_DST, destination.primitive, dst)
            ]
            if let biasData { args.append((DNNL_ARG_BIAS, bias, biasData)) }
            forward.execute(args)
        }
        withExtendedLifetime(weiCopy) {}
        return keepSource && sameLayout(source.primitive, weightsSource.primitive) ? srcCopy : nil
    }

    /// Gradients for one slice: dX (overwritten) and this slice's dW, dB (overwritten), each when asked for.
    func runBackward(
        x: UnsafeRawPointer, keptSource: AlignedBuffer?, weight: UnsafeRawPointer, dy: UnsafeRawPointer,
        dx: UnsafeMutableRawPointer?, dw: UnsafeMutableRawPointer?, db: UnsafeMutableRawPointer?
    ) {
        let (dyData, dyDataCopy) = dataDiffDestination.inbound(dy)
        if let dx {
            let (wei, weiCopy) = dataWeights.inbound(weight)
            diffSource.outbound(dx) { diffSrc in
                backwardData.execute([
                    (DNNL_ARG_DIFF_DST, dataDiffDestination.primitive, dyData),
                    (DNNL_ARG_WEIGHTS, dataWeights.primitive, wei),
                    (DNNL_ARG_DIFF_SRC, diffSource.primitive, diffSrc)
                ])
            }
            withExtendedLifetime(weiCopy) {}
        }
        if let dw {
            let (src, srcCopy) = keptSource.map { (UnsafeRawPointer($0.pointer), $0) } ?? weightsSource.inbound(x)
            let sharedDY = sameLayout(dataDiffDestination.primitive, weightsDiffDestination.primitive)
            let (dyWeights, dyWeightsCopy) = sharedDY ? (dyData, nil) : weightsDiffDestination.inbound(dy)
            diffWeights.outbound(dw) { diffW in
                var args = [
                    (DNNL_ARG_SRC, weightsSource.primitive, src), (DNNL_ARG_DIFF_DST, weightsDiffDestination.primitive, dyWeights),
                    (DNNL_ARG_DIFF_WEIGHTS, diffWeights.primitive, diffW)
                ]
                if let db { args.append((DNNL_ARG_DIFF_BIAS, bias, UnsafeRawPointer(db))) }
                backwardWeights.execute(args)
            }
            withExtendedLifetime((srcCopy, dyWeightsCopy)) {}
        }
        withExtendedLifetime(dyDataCopy) {}
    }
}

/// Created primitives by shape. Bounded: input sizes that vary (inference at many image sizes)
/// evict the least recently used shape instead of growing the cache.
final class ConvolutionCache: Sendable {
    static let shared = ConvolutionCache(capacity: 64)

    let capacity: Int
    private struct State {
        var entries: [ConvolutionKey: DNNLConvolution] = [:]
        var order: [ConvolutionKey] = []
        var failed: Set<ConvolutionKey> = []
    }
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { state.withLock { $0.entries.count } }

    /// The primitives for `key`, created on first use; nil (reported once per shape) when oneDNN has none.
    func primitives(_ key: ConvolutionKey) -> DNNLConvolution? {
        if let hit = state.withLock({ s -> DNNLConvolution? in
            guard let e = s.entries[key] else { return nil }
            s.order.removeAll { $0 == key }
            s.order.append(key)
            return e
        }) {
            return hit
        }
        if state.withLock({ $0.failed.contains(key) }) { return nil }
        dnnlSetThreads(key.threads)
        do {
            let created = try DNNLConvolution(key)
            return state.withLock { s in
                if let raced = s.entries[key] { return raced }
                s.entries[key] = created
                s.order.append(key)
                if s.order.count > capacity { s.entries[s.order.removeFirst()] = nil }
                return created
            }
        } catch {
            state.withLock { _ = $0.failed.insert(key) }
            FileHandle.standardError.write(Data("note: \(error) for convolution \(key); this shape uses im2col + GEMM\n".utf8))
            return nil
        }
    }
}

/// 2-D convolution through oneDNN, or nil when oneDNN cannot run this shape.
func conv2dDNNL(_ x: Tensor, weight: Tensor, bias: Tensor?, _ g: Conv2dGeometry) -> Tensor? {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let o = weight.shape[0]
    let (oh, ow) = g.outputSize(h, w)
    let workers = Threads.workers(for: n)
    // One slice per worker on single-threaded primitives; a batch smaller than the thread count shares
    // the spare threads out as OpenMP teams.
    let ompThreads = max(1, Threads.available / workers)
    let slices = (0..<workers).map { (n * $0 / workers)..<(n * ($0 + 1) / workers) }
    var plans: [DNNLConvolution] = []
    for slice in slices {
        let key = ConvolutionKey(batch: slice.count, channels: c, height: h, width: w, filters: o, g, bias: bias != nil, threads: ompThreads)
        guard let plan = ConvolutionCache.shared.primitives(key) else { return nil }
        plans.append(plan)
    }
    let (inPlane, outPlane) = (c * h * w, o * oh * ow)
    let keep = weight.requiresGrad && GradMode.isEnabled
    var kept = [AlignedBuffer?](repeating: nil, count: workers)
    var out = [Float](unsafeUninitializedCapacity: n * outPlane) { _, k in k = n * outPlane }
    let biasData = bias?.data ?? []
    x.data.withUnsafeBufferPointer { px in
        weight.data.withUnsafeBufferPointer { pw in
            biasData.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    kept.withUnsafeMutableBufferPointer { pk in
                        // Each worker writes its own slice of `out` and its own entry of `kept`.
                        nonisolated(unsafe) let (px, pw, po, pk) = (px.baseAddress!, pw.baseAddress!, po.baseAddress!, pk)
                        nonisolated(unsafe) let pb = bias == nil ? nil : UnsafeRawPointer(pb.baseAddress!)
                        Threads.forEachWorker(workers) { _, items in
                            for k in items {
                                dnnlSetThreads(ompThreads)
                                pk[k] = plans[k].runForward(
                                    x: px + slices[k].lowerBound * inPlane, weight: pw, bias: pb,
                                    y: po + slices[k].lowerBound * outPlane, keepSource: keep)
                            }
                        }
                    }
                }
            }
        }
    }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return Tensor.result([n, o, oh, ow], out, inputs) { y in
        convolutionBackward(y: y, x: x, weight: weight, bias: bias, plans: plans, slices: slices, kept: kept, ompThreads: ompThreads)
    }
}

private func convolutionBackward(
    y: Tensor, x: Tensor, weight: Tensor, bias: Tensor?, plans: [DNNLConvolution],
    slices: [Range<Int>], kept: [AlignedBuffer?], ompThreads: Int
) {
    let workers = slices.count
    let (inPlane, outPlane) = (x.count / max(x.shape[0], 1), y.count / max(y.shape[0], 1))
    let weightCount = weight.count, o = weight.shape[0]
    let wantDX = x.requiresGrad, wantDW = weight.requiresGrad, wantDB = bias?.requiresGrad ?? false
    // Each worker writes its own dW/dB partial; they are added in worker order (reproducible).
    let partialW = AlignedBuffer(bytes: wantDW ? workers * weightCount * 4 : 0)
    let partialB = AlignedBuffer(bytes: wantDW ? workers * o * 4 : 0)
    // dX becomes the gradient when nothing has accumulated yet, else it is added.
    var dx = [Float](unsafeUninitializedCapacity: wantDX ? x.count : 0) { _, k in k = wantDX ? x.count : 0 }
    y.grad!.withUnsafeBufferPointer { pg in
        x.data.withUnsafeBufferPointer { px in
            weight.data.withUnsafeBufferPointer { pw in
                dx.withUnsafeMutableBufferPointer { pdx in
                    nonisolated(unsafe) let (pg, px, pw, pdx) = (pg.baseAddress!, px.baseAddress!, pw.baseAddress!, pdx.baseAddress)
                    Threads.forEachWorker(workers) { _, items in
                        for k in items {
                            dnnlSetThreads(ompThreads)
                            let start = slices[k].lowerBound
                            plans[k].runBackward(
                                x: px + start * inPlane, keptSource: kept[k], weight: pw, dy: pg + start * outPlane,
                                dx: wantDX ? UnsafeMutableRawPointer(pdx! + start * inPlane) : nil,
                                dw: wantDW ? UnsafeMutableRawPointer(partialW.floats + k * weightCount) : nil,
                                db: wantDW && bias != nil ? UnsafeMutableRawPointer(partialB.floats + k * o) : nil)
                        }
                    }
                }
            }
        }
    }
    if wantDX { x.accumulateGrad(taking: dx) }
    if wantDW {
        weight.accumulateGrad { gw in for k in 0..<workers { let p = partialW.floats + k * weightCount; for j in 0..<weightCount { gw[j] += p[j] } } }
    }
    if let bias, wantDB {
        if wantDW {
            bias.accumulateGrad { gb in for k in 0..<workers { let p = partialB.floats + k * o; for j in 0..<o { gb[j] += p[j] } } }
        } else {
            y.grad!.withUnsafeBufferPointer { pg in
                let l = outPlane / max(o, 1)
                bias.accumulateGrad { gb in
                    for i in 0..<y.shape[0] {
                        for f in 0..<o {
                            let row = pg.baseAddress! + (i * o + f) * l
                            var s: Float = 0
                            for j in 0..<l { s += row[j] }
                            gb[f] += s
                        }
                    }
                }
            }
        }
    }
}
