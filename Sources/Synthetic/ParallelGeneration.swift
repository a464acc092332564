import Dispatch
import Foundation
import Tensor

/// Results of independent generation jobs, filled from several threads under a lock.
private final class Slots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [T?]
    private var failure: Error?
    private var finished = 0

    init(_ count: Int) { values = Array(repeating: nil, count: count) }

    func store(_ i: Int, _ value: T) -> Int {
        lock.lock(); defer { lock.unlock() }
        values[i] = value
        finished += 1
        return finished
    }

    func fail(_ error: Error) { lock.lock(); failure = failure ?? error; lock.unlock() }

    func collect() throws -> [T] {
        if let failure { throw failure }
        return values.map { $0! }
    }
}

/// Runs `make(i)` for every `i` in `0..<count` across the cores and returns the results in order.
/// Each job must derive its randomness from `i` alone, so the output does not depend on scheduling.
/// `progress` is called with the number finished, every `every` jobs.
func generateInParallel<T>(
    _ count: Int, every: Int = 100, progress: (@Sendable (Int) -> Void)? = nil,
    _ make: @Sendable (Int) throws -> T
) throws -> [T] {
    let slots = Slots<T>(count)
    let workers = max(1, min(Threads.count, count))
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        for i in stride(from: w, to: count, by: workers) {
            do {
                let finished = slots.store(i, try make(i))
                if finished % every == 0 { progress?(finished) }
            } catch { slots.fail(error); return }
        }
    }
    return try slots.collect()
}
