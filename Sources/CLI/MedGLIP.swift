import ArgumentParser
import Tensor

/// `medglip`: every subcommand; `mrg-train`, `vqa-eval`, ... are their own executables too.
public struct MedGLIPCommand: ParsableCommand {
    public init() {}
    public static let configuration = CommandConfiguration(
        commandName: "medglip",
        abstract: "Medical phrase grounding and grounded report generation / VQA.",
        subcommands: [Bench.self, DataCommand.self, CorpusCommand.self, ScoreCommand.self, LabelCommand.self, GroundTrain.self, GroundEval.self, GroundPredict.self, MRGTrain.self, MRGEval.self, VQATrain.self, VQAEval.self, RunsCommand.self, AblateCommand.self, HintsCommand.self])
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (run them from a release build).",
        subcommands: [EngineBench.self, MetricsBench.self, GroundingBench.self, MRGBench.self, VQABench.self])
}

/// Options every compute-heavy command shares.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for BLAS and the engine's kernels (default: all cores).")
    var threads: Int?

    func apply() throws {
        if let threads {
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
            Threads.set(threads)
        }
    }
}
