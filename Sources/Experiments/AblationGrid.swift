import Foundation
import Registry
import Tensor

/// One downstream task of an ablation: how a run of one grounding mode and seed is trained into a
/// folder and scored. The command line trains through `mrg-train` / `vqa-train`; any other trainer
/// that records its runs in the registry serves as well.
public protocol AblationTask {
    /// The registry's task name ("mrg", "vqa").
    var name: String { get }
    /// The registry metric names the summary reports.
    var metrics: [String] { get }
    /// The split whose metrics are reported.
    var evaluationSplit: String { get }
    /// What a run of `mode` and `seed` is trained with; kept in its folder (`ablate-run.json`) so
    /// that a later ablation reuses it only with the same settings.
    func trainingArguments(mode: String, seed: Int, folder: URL) -> [String]
    /// Trains (or, with `resume`, continues) the run in the folder the arguments name.
    func train(_ arguments: [String], resume: Bool) throws
    /// Scores the finished run in `folder` on `evaluationSplit`, recording the metrics in the registry.
    func evaluate(folder: URL) throws
}

/// The ablation's mode x seed grid of one task: every run trained and scored once, and found again
/// (in its folder and the registry) when the ablation is run again with the same settings.
public struct AblationGrid {
    public let out: URL
    public let modes: [String]
    public let seeds: Int
    public let registry: RunRegistry

    public init(out: URL, modes: [String], seeds: Int, registry: RunRegistry) {
        self.out = out; self.modes = modes; self.seeds = seeds; self.registry = registry
    }

    public func folder(_ task: AblationTask, mode: String, seed: Int) -> URL {
        out.appendingPathComponent("\(task.name)-\(mode)-seed\(seed)")
    }

    /// Every mode and seed's evaluation metrics, training and scoring what is not done yet.
    public func results(_ task: AblationTask) throws -> [AblationResult] {
        var results: [AblationResult] = []
        for mode in modes {
            for seed in 0..<seeds {
                let folder = folder(task, mode: mode, seed: seed)
                let label = "[\(task.name), \(mode), seed \(seed)]"
                let arguments = task.trainingArguments(mode: mode, seed: seed, folder: folder)
                let earlier = try AblationRunRecord.check(folder, trainArguments: arguments)
                if earlier, try finishedMetrics(task, folder: folder) != nil {
                    print("\(label) finished earlier with the same settings: \(folder.path)")
                } else if earlier, try registry.newestRun(task: task.name, folder: folder, status: .finished) != nil {
                    print("\(label) trained earlier with the same settings, evaluating \(folder.path)")
                    try task.evaluate(folder: folder)
                } else {
                    print("\(label) \(earlier ? "resuming" : "training") \(folder.path)")
                    if !earlier { try AblationRunRecord.write(folder, trainArguments: arguments) }
                    try task.train(arguments, resume: earlier)
                    try task.evaluate(folder: folder)
                }
                guard let metrics = try finishedMetrics(task, folder: folder) else {
                    throw RunFolderError("\(folder.path): no \(task.evaluationSplit) metrics in the registry after evaluation")
                }
                results.append(AblationResult(mode: mode, seed: seed, metrics: metrics))
            }
        }
        return results
    }

    /// The evaluation metrics of the finished training run that wrote `folder`, if any.
    func finishedMetrics(_ task: AblationTask, folder: URL) throws -> [String: Double]? {
        guard let run = try registry.newestRun(task: task.name, folder: folder, status: .finished) else { return nil }
        let scored = try registry.metrics(run: run.id).filter { $0.split == task.evaluationSplit && $0.epoch == nil }
        return scored.isEmpty ? nil : Dictionary(scored.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    }
}
