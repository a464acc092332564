import ArgumentParser
import Experiments
import Foundation
import Registry
import Tensor

/// `medglip ablate [--task mrg] [--seeds 3] [--modes none,tokens,hints,both,oracle]`: trains and
/// evaluates every mode x seed through the same commands users run, records everything in the
/// registry, prints mean +- std and the delta against no grounding, and writes `report.html`.
/// Finished (mode, seed) runs are found in the registry and not trained again.
struct AblateDownstream: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tasks", abstract: "With vs without grounding, per downstream task (the default).")

    @Option(help: "Task: mrg (report generation). VQA injection is not built yet.") var task = "mrg"
    @Option(help: "Seeds per mode.") var seeds = 3
    @Option(help: "Comma-separated modes: none, tokens, hints, both, oracle (both with ground-truth boxes).") var modes = "none,tokens,hints,both,oracle"
    @Option(help: "Epochs per run.") var epochs = 12
    @Option(help: "Studies in the embedded corpus.") var count = 2000
    @Option(help: "Data folder in R2Gen's layout (default: the embedded corpus).") var dataDir: String?
    @Option(help: "Grounding run folder for tokens / hints / both (default: the newest finished one in the registry).") var grounder: String?
    @Option(help: "Folder for the runs and report.html.") var out = "runs/ablate"
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var threadOptions: ThreadOptions

    static let reportMetrics = ["BLEU_1", "BLEU_4", "METEOR", "ROUGE_L", "CIDEr", "CE_micro_F1_negative"]

    func run() throws {
        guard task == "mrg" else { throw ValidationError("--task \(task): only mrg is available; grounding injection for VQA is not built yet") }
        let modeList = modes.split(separator: ",").map(String.init)
        for m in modeList where !["none", "tokens", "hints", "both", "oracle"].contains(m) {
            throw ValidationError("unknown mode '\(m)' (none, tokens, hints, both, oracle)")
        }
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
        let registryPath = registry.registry ?? RunRegistry.defaultPath.path
        let reg = try registry.open()
        var common = ["--epochs", String(epochs), "--count", String(count), "--registry", registryPath]
        if let dataDir { common += ["--data-dir", dataDir] }
        if let t = threadOptions.threads { common += ["--threads", String(t)] }
        var results: [AblationResult] = []
        for mode in modeList {
            for seed in 0..<seeds {
                let folder = URL(fileURLWithPath: out).appendingPathComponent("mrg-\(mode)-seed\(seed)")
                if let metrics = try finishedTestMetrics(reg, folder: folder) {
                    print("[\(mode), seed \(seed)] finished earlier: \(folder.path)")
                    results.append(AblationResult(mode: mode, seed: seed, metrics: metrics))
                    continue
                }
                print("[\(mode), seed \(seed)] training \(folder.path)")
                var grounding: [String] = []
                switch mode {
                case "none": break
                case "oracle": grounding = ["--grounding", "both", "--grounding-source", "oracle"]
                default: grounding = ["--grounding", mode] + (grounder.map { ["--grounder", $0] } ?? [])
                }
                let train = try MRGTrain.parse(common + grounding + ["--seed", String(seed), "--out", folder.path])
                try train.run()
                let eval = try MRGEval.parse(["--checkpoint", folder.path, "--registry", registryPath] + (threadOptions.threads.map { ["--threads", String($0)] } ?? []))
                try eval.run()
                guard let metrics = try finishedTestMetrics(reg, folder: folder) else {
                    throw ValidationError("\(folder.path): no test metrics in the registry after evaluation")
                }
                results.append(AblationResult(mode: mode, seed: seed, metrics: metrics))
            }
        }
        let summary = AblationSummary(results, modes: modeList, metrics: Self.reportMetrics)
        print(summary.table(title: "report generation, test split, mean +- std over \(seeds) seed(s) (delta vs none)"))
        let html = URL(fileURLWithPath: out).appendingPathComponent("report.html")
        try writeAtomically(Data(AblationReport.html([("Report generation (R2Gen)", summary)],
                                                     notes: ["\(seeds) seed(s), \(epochs) epochs per run; CE_micro_F1_negative is CheXpert CE F1 with uncertain as negative."]).utf8),
                            to: html)
        print("report: \(html.path)")
    }

    /// The test metrics of the finished training run that wrote `folder`, if any.
    func finishedTestMetrics(_ registry: RunRegistry, folder: URL) throws -> [String: Double]? {
        guard let run = try registry.newestRun(task: "mrg", folder: folder, status: .finished) else { return nil }
        let test = try registry.metrics(run: run.id).filter { $0.split == "test" && $0.epoch == nil }
        return test.isEmpty ? nil : Dictionary(test.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    }
}
