import Foundation

/// Early stopping: training ends when the validation score has not improved for `epochs` epochs.
/// The first best epoch counts (as the best checkpoint is kept only on a strict improvement), so
/// a plateau does not extend the run.
public struct Patience: Codable, Sendable, Equatable {
    public var epochs: Int

    public init(epochs: Int) { self.epochs = epochs }

    /// Why training should stop after `scores` (one per epoch so far, higher is better), or nil.
    public func stopReason(_ scores: [Double], metric: String) -> String? {
        guard let best = Self.best(scores), scores.count - 1 - best >= epochs else { return nil }
        let value = scores[best].isFinite ? String(format: "%.4f", scores[best]) : "\(scores[best])"
        return "stopped after epoch \(scores.count): validation \(metric) has not improved for \(epochs) epochs (--patience); "
            + "best \(value) at epoch \(best + 1)"
    }

    /// The index of the first best score.
    public static func best(_ scores: [Double]) -> Int? { scores.indices.max { scores[$0] < scores[$1] } }
}
