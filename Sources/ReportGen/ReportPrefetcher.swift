import Foundation
import Metrics
import Tensor

/// Decodes the studies of the coming steps on a background thread (each step's studies by a pool
/// of workers) into a queue of at most `depth` steps, so memory does not grow with the dataset and
/// a training step finds its pixels ready.
final class ReportPrefetcher: @unchecked Sendable {
    private let loader: ReportLoader
    private let labeler: CheXpertLabeler
    private let steps: [[ReportExample]]
    private let condition = NSCondition()
    private var ready: [Int: Result<[ReportExample], Error>] = [:]
    private var consumed = 0
    private var stopped = false
    private let depth: Int

    /// `steps[k]`: the studies step k needs (pending ones are decoded; the others pass through).
    init(loader: ReportLoader, steps: [[ReportExample]], depth: Int = 4) throws {
        self.loader = loader; self.steps = steps; self.depth = depth
        labeler = try CheXpertLabeler()
        let thread = Thread { [self] in produce() }
        thread.name = "medglip-prefetch"
        thread.start()
    }

    private func produce() {
        for k in steps.indices {
            condition.lock()
            while !stopped && k - consumed >= depth { condition.wait() }
            let stop = stopped
            condition.unlock()
            if stop { return }
            let studies = steps[k]
            var decoded = [Result<ReportExample, Error>?](repeating: nil, count: studies.count)
            decoded.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let out = out
                DispatchQueue.concurrentPerform(iterations: studies.count) { i in
                    out[i] = Result { try loader.decoded(studies[i], labeler: labeler) }
                }
            }
            let result = Result { try decoded.map { try $0!.get() } }
            condition.lock()
            ready[k] = result
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Step k's studies, decoded (waits for them if the workers are behind); steps are taken in order.
    func take(_ k: Int) throws -> [ReportExample] {
        condition.lock()
        defer { condition.unlock() }
        while ready[k] == nil { condition.wait() }
        let result = ready.removeValue(forKey: k)!
        consumed = k + 1
        condition.broadcast()
        return try result.get()
    }

    /// Studies per second the workers decode alone: every study of `examples` through the queue,
    /// `batchSize` per step (the data pipeline's own speed, to set against training's).
    static func decodeRate(loader: ReportLoader, examples: [ReportExample], batchSize: Int) throws -> Double {
        let steps = stride(from: 0, to: examples.count, by: batchSize).map { Array(examples[$0..<min($0 + batchSize, examples.count)]) }
        let start = DispatchTime.now().uptimeNanoseconds
        let prefetcher = try ReportPrefetcher(loader: loader, steps: steps)
        for k in steps.indices { _ = try prefetcher.take(k) }
        return Double(examples.count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Lets the background thread end (training stopped early or failed).
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    deinit { stop() }
}
