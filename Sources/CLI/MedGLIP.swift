import ArgumentParser
import Tensor

/// `medglip`: every subcommand; `mrg-train`, `vqa-eval`, ... are their own executables too.
public struct MedGLIPCommand: ParsableCommand {
    public init() {}
    public static let configuration = CommandConfiguration(
        commandName: "medglip",
        abstract: "Medical phrase grounding and grounded report generation / VQA.",
        subcommands: [
            Bench.self, DataCommand.self, CorpusCommand.self, ScoreCommand.self, LabelCommand.self, GroundTrain.self, GroundEval.self,
            GroundPredict.self, MRGTrain.self, MRGEval.self, VQATrain.self, VQAEval.self, RunsCommand.self, AblateDownstream.self,
            HintsCommand.self, FuzzCommand.self
        ])
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (run them from a release build).",
        subcommands: [
            EngineBench.self, ProfileBench.self, MetricsBench.self, GroundingBench.self, MRGBench.self, VQABench.self, ScalingBench.self,
            DataBench.self
        ])
}

/// Options every compute-heavy command shares.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for BLAS, oneDNN and the engine's kernels (default: all cores).")
    var threads: Int?

    @Option(help: "Convolution kernels (default: onednn, or the environment variable MEDGLIP_CONV).")
    var conv: ConvolutionBackend?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func apply() throws {
        try validate()
        AllocatorTuning.keepFreedMemory()
        if let threads { Threads.set(threads) }
        if let conv { ConvolutionBackend.set(conv) }
    }
}

extension ConvolutionBackend: ExpressibleByArgument {}
