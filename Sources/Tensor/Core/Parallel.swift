import COpenBLAS
import Dispatch

/// Thread settings. The OpenBLAS thread count is the single source of truth, so the engine keeps
/// no mutable state of its own: our elementwise kernels split across the same number of cores.
public enum Threads {
    public static var count: Int { max(1, Int(openblas_get_num_threads())) }

    /// Sets the thread count for BLAS and for the engine's parallel kernels.
    public static func set(_ n: Int) {
        precondition(n >= 1, "thread count must be at least 1")
        openblas_set_num_threads(Int32(n))
    }

    /// Below this many elements a kernel runs on the calling thread: dispatch costs more than it saves.
    static let parallelThreshold = 1 << 16

    /// Runs `body` over disjoint chunks of `0..<n`. Chunk boundaries depend only on `n` and the
    /// thread count, so results are reproducible for a given thread count.
    static func forEachChunk(_ n: Int, minChunk: Int = parallelThreshold, _ body: (Range<Int>) -> Void) {
        let chunks = min(count, max(1, n / minChunk))
        if chunks <= 1 { body(0..<n); return }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                work((n * c / chunks)..<(n * (c + 1) / chunks))
            }
        }
    }

    /// Workers `forEachWorker` uses for `n` independent items.
    static func workers(for n: Int) -> Int { max(1, min(count, n)) }

    /// Runs `body(worker, items)` over contiguous slices of `0..<n`, one per worker, concurrently,
    /// with BLAS single-threaded inside: for many mid-sized GEMMs (one per image) a GEMM per core
    /// beats every core sharing each GEMM, and no BLAS thread spins while the others copy data.
    /// Slices depend only on `n` and the thread count, so results are reproducible.
    static func forEachWorker(_ n: Int, _ body: (_ worker: Int, _ items: Range<Int>) -> Void) {
        let workers = workers(for: n)
        if workers <= 1 { body(0, 0..<n); return }
        let saved = count
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(saved)) }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: workers) { k in
                work(k, (n * k / workers)..<(n * (k + 1) / workers))
            }
        }
    }
}
