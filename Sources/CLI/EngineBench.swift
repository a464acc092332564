import ArgumentParser
import COpenBLAS
import Foundation
import Tensor

/// `medglip bench engine`: how close the engine's training ops come to raw BLAS, measured in one run.
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Measure sgemm peak, linear/conv/transformer forward+backward and per-op overhead.")

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(help: "Seconds spent on each measurement (the median of repeated runs is reported).")
    var seconds: Double = 1.0

    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try threadOptions.apply()
        let core = BLASKernels.coreName  // selects the kernels before the first raw GEMM below
        let rng = RandomGenerator(seed: 1)
        var rows: [(String, Double, String)] = []

        // Raw cblas_sgemm at 1024^3: the ceiling everything else is compared against.
        let n = 1024
        let a = (0..<(n * n)).map { _ in rng.uniform(-1, 1) }, b = a
        var c = [Float](repeating: 0, count: n * n)
        // Raw BLAS runs with OpenBLAS's own threading; the engine keeps OpenBLAS single-threaded
        // and splits work itself.
        func rawBLAS<T>(_ body: () -> T) -> T {
            openblas_set_num_threads(Int32(Threads.count))
            defer { openblas_set_num_threads(1) }
            return body()
        }
        func measurePeak() -> Double {
            let t = rawBLAS {
                medianSeconds(seconds) {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
                }
            }
            return 2 * pow(Double(n), 3) / t / 1e9
        }
        // Clock speed drifts on shared machines: the peak is the better of a measurement at the start
        // and one at the end, so every ratio below is conservative.
        var peak = measurePeak()

        // The linear layer's three GEMMs (forward, dX, dW) as raw cblas calls: what BLAS itself reaches
        // on these shapes, so that engine overhead and BLAS shape efficiency can be told apart.
        let (m, k) = (64, 1024)
        let xs = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
        var ys = [Float](repeating: 1, count: m * n), dxs = xs, dws = a
        let rawTime = rawBLAS {
            medianSeconds(seconds) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, xs, Int32(k), a, Int32(k), 0, &ys, Int32(n))
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(k), Int32(n), 1, ys, Int32(n), a, Int32(k), 0, &dxs, Int32(k))
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n), Int32(k), Int32(m), 1, ys, Int32(n), xs, Int32(k), 0, &dws, Int32(k))
            }
        }
        let rawGflops = 3 * 2 * 64.0 * 1024 * 1024 / rawTime / 1e9
        rows.append(("matmul_raw_gflops", rawGflops, "GFLOP/s, the same three GEMMs as raw cblas calls"))

        // Whether the cores scale on these shapes at all: the linear's forward GEMM, single-threaded,
        // once per core at the same time (shared inputs, own outputs), against one core alone.
        // 1.0 means a second core adds nothing.
        if Threads.count > 1 {
            let outputs = UnsafeMutablePointer<Float>.allocate(capacity: Threads.count * m * n)
            defer { outputs.deallocate() }
            nonisolated(unsafe) let shared = (x: xs, w: a, y: outputs)
            func gemmStreams(_ count: Int) -> Double {
                medianSeconds(seconds) {
                    DispatchQueue.concurrentPerform(iterations: count) { i in
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, shared.x, Int32(k),
                            shared.w, Int32(k), 0, shared.y + i * m * n, Int32(n))
                    }
                }
            }
            let scaling = gemmStreams(1) * Double(Threads.count) / gemmStreams(Threads.count)
            rows.append(("gemm_stream_scaling", scaling, "x one core's throughput, \(Threads.count) concurrent single-threaded 64x1024x1024 GEMMs"))
        }

        // Engine linear layer: x [64, 1024] through W [1024, 1024], forward + backward (3 GEMMs).
        let layer = Linear(1024, 1024, rng: rng)
        let x = Tensor.randn([64, 1024], rng: rng, requiresGrad: true)
        let linearTime = medianSeconds(seconds) {
            layer.zeroGrad(); x.grad = nil
            layer(x).backward(seed: ones(64 * 1024))
        }
        let linearGflops = 3 * 2 * 64.0 * 1024 * 1024 / linearTime / 1e9
        rows.append(
            (
                "matmul_fwd_bwd_gflops", linearGflops,
                String(format: "GFLOP/s, linear 64x1024 by 1024x1024 (%.0f%% of raw)", 100 * linearGflops / rawGflops)
            ))

        // Conv 3x3, 64 -> 64 channels on 16x64x56x56, padding 1, forward + backward.
        let conv = Conv2d(64, 64, kernel: 3, padding: 1, rng: rng)
        let image = Tensor.randn([16, 64, 56, 56], rng: rng, requiresGrad: true)
        let convSeed = ones(16 * 64 * 56 * 56)
        let convTime = medianSeconds(seconds) {
            conv.zeroGrad(); image.grad = nil
            conv(image).backward(seed: convSeed)
        }
        let convGflops = 3 * 2 * 16.0 * 64 * 56 * 56 * 64 * 9 / convTime / 1e9
        rows.append(("conv_fwd_bwd_gflops", convGflops, "GFLOP/s, conv 16x64x56x56, 64 filters 3x3 (\(ConvolutionBackend.current.rawValue))"))
        if ConvolutionBackend.current != .im2col {
            let im2colTime = ConvolutionBackend.$scoped.withValue(.im2col) {
                medianSeconds(seconds) {
                    conv.zeroGrad(); image.grad = nil; conv(image).backward(seed: convSeed)
                }
            }
            let im2colGflops = 3 * 2 * 16.0 * 64 * 56 * 56 * 64 * 9 / im2colTime / 1e9
            rows.append(("conv_im2col_gflops", im2colGflops, "GFLOP/s, the same conv on the im2col fallback"))
        }

        // One pre-norm encoder layer, d=512, 8 heads, d_ff=2048, batch 16 x 98 tokens.
        let encoder = TransformerEncoderLayer(dModel: 512, heads: 8, dFF: 2048, dropout: 0.1, rng: rng)
        let tokens = Tensor.randn([16, 98, 512], rng: rng, requiresGrad: true)
        let tokenSeed = ones(16 * 98 * 512)
        let layerTime = medianSeconds(seconds) {
            encoder.zeroGrad(); tokens.grad = nil
            encoder.forward(tokens).backward(seed: tokenSeed)
        }
        rows.append(("transformer_layer_ms", layerTime * 1e3, "ms, encoder layer d512 h8 ff2048, 16x98 tokens, fwd+bwd"))

        // Per-op overhead: a chain of 10,000 elementwise ops on 64 values, recorded and back-propagated.
        let chainLength = 10_000
        let start = Tensor.randn([64], rng: rng, requiresGrad: true)
        let chainTime = medianSeconds(seconds) {
            start.grad = nil
            var t = start
            for i in 0..<chainLength { t = i % 2 == 0 ? t * 0.999 : t + 0.001 }
            t.backward(seed: ones(64))
        }
        rows.append(("tiny_op_us", chainTime / Double(chainLength) * 1e6, "us per op (forward + backward), 64-value tensors, autograd on"))
        rows.append(("threads", Double(Threads.count), "BLAS and engine threads"))
        peak = max(peak, measurePeak())
        rows.insert(("sgemm_peak_gflops", peak, "GFLOP/s, cblas_sgemm 1024x1024x1024 (best of start and end)"), at: 0)

        let ratio = { (name: String) in rows.first { $0.0 == name }!.1 / peak }
        rows.append(("matmul_raw_fraction_of_peak", ratio("matmul_raw_gflops"), "raw BLAS on the linear layer's GEMMs / sgemm peak"))
        rows.append(("matmul_fraction_of_peak", ratio("matmul_fwd_bwd_gflops"), "engine linear fwd+bwd / sgemm peak"))
        rows.append(("conv_fraction_of_peak", ratio("conv_fwd_bwd_gflops"), "engine conv fwd+bwd / sgemm peak"))
        let kernels = [
            ("blas_core", core, "OpenBLAS kernels in use"), ("dnnl_isa", DNNLInfo.isa, "oneDNN \(DNNLInfo.version) JIT kernels in use"),
            ("conv_backend", ConvolutionBackend.current.rawValue, "convolution kernels (--conv)")
        ]
        if json {
            let body = rows.map { "\"\($0.0)\": \($0.0 == "threads" ? String(Int($0.1)) : String(format: "%.3f", $0.1))" }
            print("{" + (body + kernels.map { "\"\($0.0)\": \"\($0.1)\"" }).joined(separator: ", ") + "}")
        } else {
            let label = { (name: String) in name.padding(toLength: 24, withPad: " ", startingAt: 0) }
            for (name, value, what) in rows { print(label(name) + String(format: "%10.2f  ", value) + what) }
            for (name, value, what) in kernels { print(label(name) + value.leftPadding(10) + "  " + what) }
        }
    }

    private func ones(_ n: Int) -> [Float] { [Float](repeating: 1, count: n) }
}

extension String {
    func leftPadding(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
