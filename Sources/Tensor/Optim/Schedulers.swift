import Foundation

/// A learning-rate schedule as a factor on each group's base rate; apply with `applySchedule`.
public protocol LRSchedule: Sendable {
    /// Factor for the given step (or epoch, for epoch-based schedules), counting from 0.
    func factor(at step: Int) -> Float
}

/// Multiplies the rate by `gamma` every `stepSize` epochs (PyTorch's StepLR).
public struct StepLR: LRSchedule {
    public let stepSize: Int
    public let gamma: Float
    public init(stepSize: Int, gamma: Float) {
        precondition(stepSize > 0, "StepLR step size must be positive")
        self.stepSize = stepSize; self.gamma = gamma
    }
    public func factor(at epoch: Int) -> Float { Foundation.pow(gamma, Float(epoch / stepSize)) }
}

/// Linear warm-up from 0 over `warmupSteps`, then cosine decay to `minFactor` at `totalSteps`.
public struct CosineWithWarmup: LRSchedule {
    public let warmupSteps, totalSteps: Int
    public let minFactor: Float
    public init(warmupSteps: Int, totalSteps: Int, minFactor: Float = 0) {
        precondition(totalSteps > warmupSteps, "cosine schedule needs more total steps than warm-up steps")
        self.warmupSteps = warmupSteps; self.totalSteps = totalSteps; self.minFactor = minFactor
    }
    public func factor(at step: Int) -> Float {
        if step < warmupSteps { return Float(step + 1) / Float(warmupSteps) }
        let progress = min(1, Float(step - warmupSteps) / Float(totalSteps - warmupSteps))
        return minFactor + (1 - minFactor) * 0.5 * (1 + Foundation.cos(.pi * progress))
    }
}
