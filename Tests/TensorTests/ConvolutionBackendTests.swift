import XCTest

@testable import Tensor

/// oneDNN's convolution against the im2col path: equal outputs and gradients on awkward shapes.
final class ConvolutionBackendTests: XCTestCase {
    private struct Result { let y: [Float], dx: [Float]?, dw: [Float], db: [Float]? }

    private func run(_ backend: ConvolutionBackend, x: Tensor, w: Tensor, b: Tensor?, _ g: Conv2dGeometry, seed: [Float]? = nil) -> Result {
        ConvolutionBackend.$scoped.withValue(backend) {
            let (x, w, b) = (x.detached(), w.detached(), b?.detached())
            x.requiresGrad = true; w.requiresGrad = true; b?.requiresGrad = true
            let y = conv2d(x, weight: w, bias: b, g)
            let rng = RandomGenerator(seed: 7)
            y.backward(seed: seed ?? (0..<y.count).map { _ in rng.uniform(-1, 1) })
            return Result(y: y.data, dx: x.grad, dw: w.grad!, db: b?.grad)
        }
    }

    private func assertClose(_ a: [Float]?, _ e: [Float]?, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let a, let e else { XCTAssertEqual(a == nil, e == nil, "\(what): one side has no values", file: file, line: line); return }
        XCTAssertEqual(a.count, e.count, "\(what): counts differ", file: file, line: line)
        let scale = max(1, e.map(abs).max() ?? 1)
        for (i, (u, v)) in zip(a, e).enumerated() where !(abs(u - v) <= 1e-4 * scale) {
            XCTFail("\(what): element \(i) is \(u) with oneDNN, \(v) with im2col", file: file, line: line)
            return
        }
    }

    func testOneDNNMatchesIm2colOnOddShapes() {
        // (batch, channels, filters, height, width, geometry, bias): 1x1, stride 2, padding 0 and 2,
        // non-square inputs and kernels, dilation, batch 1 (one OpenMP team) and odd batches (slices
        // of unequal size on two workers), channel counts that no SIMD width divides.
        let cases: [(Int, Int, Int, Int, Int, Conv2dGeometry, Bool)] = [
            (2, 3, 5, 9, 7, Conv2dGeometry(kernel: 3, padding: 1), true),
            (1, 17, 20, 11, 13, Conv2dGeometry(kernel: 1), true),
            (3, 16, 32, 12, 10, Conv2dGeometry(kernel: 3, stride: 2, padding: 1), false),
            (5, 8, 24, 9, 9, Conv2dGeometry(kernel: 3, padding: 0), true),
            (2, 20, 12, 8, 14, Conv2dGeometry(kernel: 5, padding: 2), true),
            (1, 1, 16, 32, 24, Conv2dGeometry(kernel: 7, stride: 2, padding: 3), false),
            (2, 6, 7, 10, 9, Conv2dGeometry(kernel: (2, 3), stride: (1, 2), padding: (1, 0)), true),
            (2, 12, 12, 12, 12, Conv2dGeometry(kernel: 3, padding: 2, dilation: 2), true),
            (4, 64, 64, 14, 14, Conv2dGeometry(kernel: 3, padding: 1), true)
        ]
        for (k, (n, c, o, h, wd, g, hasBias)) in cases.enumerated() {
            let rng = RandomGenerator(seed: 300 + UInt64(k))
            let x = Tensor.uniform([n, c, h, wd], -1, 1, rng: rng)
            let w = Tensor.uniform([o, c, g.kernel.h, g.kernel.w], -0.5, 0.5, rng: rng)
            let b = hasBias ? Tensor.uniform([o], -1, 1, rng: rng) : nil
            let name = "case \(k): \(n)x\(c)x\(h)x\(wd), \(o) filters \(g.kernel), stride \(g.stride), padding \(g.padding)"
            let fast = run(.onednn, x: x, w: w, b: b, g), slow = run(.im2col, x: x, w: w, b: b, g)
            assertClose(fast.y, slow.y, "\(name) output")
            assertClose(fast.dx, slow.dx, "\(name) input gradient")
            assertClose(fast.dw, slow.dw, "\(name) weight gradient")
            assertClose(fast.db, slow.db, "\(name) bias gradient")
        }
    }

    /// The oneDNN path is really taken for these shapes (a failed primitive would fall back to im2col
    /// and make the comparison above vacuous).
    func testOneDNNCreatesDirectKernels() throws {
        let key = ConvolutionKey(
            batch: 4, channels: 64, height: 14, width: 14, filters: 64, Conv2dGeometry(kernel: 3, padding: 1),
            bias: true, threads: 1)
        let plan = try XCTUnwrap(ConvolutionCache.shared.primitives(key))
        XCTAssertFalse(plan.forward.implementation.contains("gemm"), "forward runs \(plan.forward.implementation), not a direct kernel")
        XCTAssertFalse(plan.source.isPlain, "64 channels should be reordered into a blocked layout")
    }

    /// Gradients that accumulate: one input feeding two convolutions, and a gradient already present.
    func testInputGradientAccumulates() {
        let rng = RandomGenerator(seed: 41)
        let x0 = Tensor.uniform([3, 8, 10, 10], -1, 1, rng: rng)
        let w1 = Tensor.uniform([16, 8, 3, 3], -0.5, 0.5, rng: rng), w2 = Tensor.uniform([4, 8, 1, 1], -0.5, 0.5, rng: rng)
        func grads(_ backend: ConvolutionBackend) -> [Float] {
            ConvolutionBackend.$scoped.withValue(backend) {
                let x = x0.detached(); x.requiresGrad = true
                let a = conv2d(x, weight: w1, bias: nil, Conv2dGeometry(kernel: 3, padding: 1)).sum()
                let b = conv2d(x, weight: w2, bias: nil, Conv2dGeometry(kernel: 1)).sum()
                (a + b).backward()
                return x.grad!
            }
        }
        assertClose(grads(.onednn), grads(.im2col), "accumulated input gradient")
    }

    func testInferenceWithoutGradientsMatches() {
        let rng = RandomGenerator(seed: 42)
        let x = Tensor.uniform([3, 5, 16, 12], -1, 1, rng: rng), w = Tensor.uniform([9, 5, 3, 3], -1, 1, rng: rng)
        let g = Conv2dGeometry(kernel: 3, stride: 2, padding: 1)
        let fast = ConvolutionBackend.$scoped.withValue(.onednn) { withNoGrad { conv2d(x, weight: w, bias: nil, g) } }
        let slow = ConvolutionBackend.$scoped.withValue(.im2col) { withNoGrad { conv2d(x, weight: w, bias: nil, g) } }
        XCTAssertFalse(fast.requiresGrad)
        assertClose(fast.data, slow.data, "inference output")
    }

    func testOneAndTwoThreadsAgree() {
        let rng = RandomGenerator(seed: 43)
        let x = Tensor.uniform([4, 16, 12, 12], -1, 1, rng: rng), w = Tensor.uniform([16, 16, 3, 3], -0.5, 0.5, rng: rng)
        let b = Tensor.uniform([16], -1, 1, rng: rng)
        let g = Conv2dGeometry(kernel: 3, padding: 1)
        let before = Threads.count
        defer { Threads.set(before) }
        Threads.set(1)
        let one = run(.onednn, x: x, w: w, b: b, g)
        Threads.set(2)
        let two = run(.onednn, x: x, w: w, b: b, g)
        assertClose(one.y, two.y, "output")
        assertClose(one.dx, two.dx, "input gradient")
        assertClose(one.dw, two.dw, "weight gradient")
    }

    /// Varying input sizes evict old shapes instead of growing the cache.
    func testPrimitiveCacheIsBounded() {
        let cache = ConvolutionCache(capacity: 3)
        for size in 5..<15 {
            let key = ConvolutionKey(
                batch: 1, channels: 4, height: size, width: size, filters: 8, Conv2dGeometry(kernel: 3, padding: 1),
                bias: false, threads: 1)
            XCTAssertNotNil(cache.primitives(key), "no primitive for \(size)x\(size)")
            XCTAssertLessThanOrEqual(cache.count, 3)
        }
        XCTAssertEqual(cache.count, 3)
        let shared = ConvolutionCache.shared
        for size in 8..<(8 + shared.capacity + 6) {
            _ = ConvolutionBackend.$scoped.withValue(.onednn) {
                withNoGrad { conv2d(Tensor.zeros([1, 2, size, size]), weight: Tensor.zeros([2, 2, 3, 3]), bias: nil, Conv2dGeometry(kernel: 3)) }
            }
        }
        XCTAssertLessThanOrEqual(shared.count, shared.capacity)
    }

    /// Zero input channels or zero filters: oneDNN would skip the work and leave outputs unwritten.
    func testEmptyChannelsAndFilters() {
        let noChannels = conv2d(Tensor.zeros([2, 0, 5, 5]), weight: Tensor.zeros([3, 0, 3, 3]), bias: Tensor([1, 2, 3]), Conv2dGeometry(kernel: 3))
        XCTAssertEqual(noChannels.shape, [2, 3, 3, 3])
        XCTAssertEqual(Array(noChannels.data[0..<9]), [Float](repeating: 1, count: 9))
        let x = Tensor.uniform([2, 3, 5, 5], -1, 1, rng: RandomGenerator(seed: 44), requiresGrad: true)
        let noFilters = conv2d(x, weight: Tensor.zeros([0, 3, 3, 3], requiresGrad: true), bias: nil, Conv2dGeometry(kernel: 3))
        XCTAssertEqual(noFilters.shape, [2, 0, 3, 3])
        noFilters.backward(seed: [])
        XCTAssertEqual(x.grad ?? [0], [Float](repeating: 0, count: x.grad?.count ?? 1))
    }
}
