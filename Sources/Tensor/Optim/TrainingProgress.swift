import Foundation

/// A one-line progress bar on stderr for a training epoch: steps, running loss, throughput, ETA.
public struct TrainingProgress {
    public let epoch: Int
    public let steps: Int
    public let unit: String
    /// What is being trained, when it is not the main model ("extractor pre-training").
    public let label: String
    let start = Date()

    public init(epoch: Int, steps: Int, unit: String, label: String = "epoch") {
        self.epoch = epoch; self.steps = steps; self.unit = unit; self.label = label
    }

    public var elapsed: Double { Date().timeIntervalSince(start) }

    /// `done` steps finished, `items` units processed so far.
    public func report(step done: Int, loss: Double, items: Int) {
        let elapsed = self.elapsed
        let eta = elapsed / Double(max(done, 1)) * Double(steps - done)
        let width = 24, filled = width * done / max(steps, 1)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(
            format: "\r%@ %d [%@] %d/%d loss %.4f  %.1f %@/s  eta %.0fs", label, epoch, bar, done, steps, loss,
            Double(items) / max(elapsed, 1e-9), unit, eta)
        FileHandle.standardError.write(Data(line.utf8))
    }
}
