import COpenBLAS
import Dispatch
import Foundation
import Synchronization

/// How many cores the engine uses, and how it splits work over them.
///
/// The engine does its own parallelism (elementwise chunks, GEMM panels, images of a batch) and
/// runs OpenBLAS single-threaded inside it: OpenBLAS's idle workers spin on `sched_yield` between
/// calls, which on a small machine steals the cores our elementwise kernels need.
public enum Threads {
    /// 0 means every core.
    private static let configured = Atomic<Int>(0)
    /// Asking the system is slow (it reads the affinity mask), so it is asked once.
    private static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Threads for BLAS panels and the engine's kernels.
    public static var count: Int {
        let c = configured.load(ordering: .relaxed)
        return c > 0 ? c : cores
    }

    /// Sets the thread count (process-wide, like OpenBLAS's own setting).
    public static func set(_ n: Int) {
        precondition(n >= 1, "thread count must be at least 1")
        configured.store(n, ordering: .relaxed)
    }

    /// True on a thread already running one slice of parallel work: nested kernels stay serial.
    @TaskLocal static var insideWorker = false

    /// Parallelism available at this call depth.
    static var available: Int { insideWorker ? 1 : count }

    /// Below this many elements a kernel runs on the calling thread: dispatch costs more than it saves.
    static let parallelThreshold = 1 << 16

    /// Runs `body` over disjoint chunks of `0..<n`. Chunk boundaries depend only on `n` and the
    /// thread count, so results are reproducible for a given thread count.
    static func forEachChunk(_ n: Int, minChunk: Int = parallelThreshold, _ body: (Range<Int>) -> Void) {
        guard n >= 2 * minChunk else { body(0..<n); return }
        let chunks = min(available, n / minChunk)
        if chunks <= 1 { body(0..<n); return }
        run(chunks) { c in body((n * c / chunks)..<(n * (c + 1) / chunks)) }
    }

    /// Workers `forEachWorker` uses for `n` independent items.
    static func workers(for n: Int) -> Int { max(1, min(available, n)) }

    /// Runs `body(worker, items)` over contiguous slices of `0..<n`, one per worker, concurrently
    /// (e.g. one image of a batch per core, each with its own GEMMs).
    /// Slices depend only on `n` and the thread count, so results are reproducible.
    static func forEachWorker(_ n: Int, _ body: (_ worker: Int, _ items: Range<Int>) -> Void) {
        let workers = workers(for: n)
        if workers <= 1 { body(0, 0..<n); return }
        run(workers) { k in body(k, (n * k / workers)..<(n * (k + 1) / workers)) }
    }

    /// `body(0..<parts)` concurrently, each marked as a worker so nested kernels do not split again.
    private static func run(_ parts: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: parts) { k in
                $insideWorker.withValue(true) { work(k) }
            }
        }
    }
}
