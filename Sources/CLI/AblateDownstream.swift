import ArgumentParser
import Experiments
import Foundation
import Registry
import Tensor
import VQA

/// `medglip ablate [--task mrg|vqa|all] [--seeds 3] [--modes none,tokens,hints,both,oracle]`:
/// trains and evaluates every task x mode x seed through the same commands users run, records
/// everything in the registry, prints mean +- std and the delta against no grounding, and writes
/// `report.html`. Finished runs are found in the registry and not trained again.
struct AblateDownstream: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablate", abstract: "With vs without grounding, per downstream task (`ablate grounding`: Med-GLIP's Table II).",
        subcommands: [AblateGrounding.self])

    enum Task: String, ExpressibleByArgument, CaseIterable { case mrg, vqa, all }

    @Option(help: "Task: mrg (report generation), vqa or both.") var task: Task = .all
    @Option(help: "Seeds per mode.") var seeds = 3
    @Option(help: "Comma-separated modes: none, tokens, hints, both, oracle (both with ground-truth boxes).")
    var modes = Modes(list: Mode.allCases)
    @Option(help: "Report generation: epochs per run.") var epochs = 12
    @Option(help: "Report generation: studies in the embedded corpus.") var count = 2000
    @Option(help: "Report generation: validation metric that picks each run's weights (R2Gen: BLEU_4), a sum of them, or last (the final epoch).")
    var selectOn = "BLEU_4"
    @Option(help: "VQA: epochs per run.") var vqaEpochs = 15
    @Option(help: "VQA: transformer layers of the language model.") var vqaLayers = VQAConfig().layers
    @Option(help: "VQA: images in the embedded SLAKE-format corpus.") var vqaCount = defaultParameters(.slake).count
    @Option(help: "VQA: weight of the localization loss on the training images' boxes (vqa-train --localization-loss; 0: off).")
    var vqaLocalizationLoss: Float = 0
    @Option(help: "VQA: localization pre-training epochs before the answers (vqa-train --localization-pretrain; needs --vqa-localization-loss).")
    var vqaLocalizationPretrain = 0
    @Option(help: "Dataset of the one task given: iu-xray or mimic-cxr (mrg), slake or vqa-rad (vqa).") var dataset: String?
    @Option(help: "Data folder of the one task given, in that dataset's layout (default: the embedded corpus).") var dataDir: String?
    @Option(
        help: ArgumentHelp(
            "Grounding run folder for tokens / hints / both, or several separated by commas (each modality from the first that knows it; "
                + "default: the newest finished one in the registry).")
    ) var grounder: String?
    @Option(help: "Lowest detection score injected by tokens / hints / both (choose it on validation hint precision and recall).")
    var groundingThreshold: Float = 0.3
    @Flag(help: "tokens / hints / both: a threshold per finding phrase, the one with the best validation hint F1 (see mrg-train --help).")
    var groundingThresholdPerPhrase = false
    @Option(help: "tokens / hints / both: hints of detections scoring below this start with \"possible\" (0: none).") var groundingHedge: Float = 0
    @Option(
        help: "tokens / hints / both: chance that an image's grounding is withheld for a training step (the oracle's true boxes are never withheld).")
    var groundingDropout: Float = 0
    @Option(help: "Folder for the runs and report.html.") var out = "runs/ablate"
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var threadOptions: ThreadOptions

    static let metrics = [
        "mrg": ["BLEU_1", "BLEU_4", "METEOR", "ROUGE_L", "CIDEr", "CE_micro_F1_negative"],
        "vqa": ["closed_accuracy", "open_recall", "overall_exact"]
    ]

    func validate() throws {
        if task == .all && (dataset != nil || dataDir != nil) {
            throw ValidationError("--dataset and --data-dir name one task's data: give --task mrg or --task vqa with them")
        }
        try Check.atLeast(seeds, 1, "--seeds")
        for (value, option) in [(epochs, "--epochs"), (count, "--count"), (vqaEpochs, "--vqa-epochs"), (vqaCount, "--vqa-count")] {
            try Check.atLeast(value, 1, option)
        }
        try Check.within(groundingThreshold, 0...1, "--grounding-threshold")
        try GroundingInjectionOptions.validate(dropout: groundingDropout, hedge: groundingHedge)
        try MRGTrain.validateSelection(selectOn)
        try VQATrain.validateLayers(vqaLayers, option: "--vqa-layers")
        try VQATrain.validateLocalization(loss: vqaLocalizationLoss, pretrain: vqaLocalizationPretrain, prefix: "--vqa-")
    }

    var modeList: [String] { modes.list.map(\.rawValue) }

    /// What a run injects: nothing, the grounder's region tokens, its hints, both, or both from the true boxes.
    enum Mode: String, CaseIterable { case none, tokens, hints, both, oracle }

    /// `--modes none,both,oracle`: a comma-separated list of modes, each named once.
    struct Modes: ExpressibleByArgument {
        let list: [Mode]
        init(list: [Mode]) { self.list = list }
        init?(argument: String) {
            let modes = argument.split(separator: ",").map { Mode(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
            guard !modes.isEmpty, !modes.contains(nil), Set(modes.map { $0!.rawValue }).count == modes.count else { return nil }
            list = modes.map { $0! }
        }
        var defaultValueDescription: String { list.map(\.rawValue).joined(separator: ",") }
        static var allValueStrings: [String] { Mode.allCases.map(\.rawValue) }
    }

    /// The split every run is scored on; none of them chooses weights on it (VQA-RAD without its
    /// test file gets one carved from train).
    static let evaluationSplit = "test"

    func run() throws {
        let reg = try registry.open()
        let grid = AblationGrid(out: URL(fileURLWithPath: out), modes: modeList, seeds: seeds, registry: reg)
        let gallery = AblationGallery(out: grid.out, modes: modeList, registry: reg)
        var sections: [ReportSection] = []
        for task in task == .all ? ["mrg", "vqa"] : [task.rawValue] {
            let commands = CommandLineTask(ablation: self, name: task, registryPath: registry.registry ?? RunRegistry.defaultPath.path)
            let summary = AblationSummary(try grid.results(commands), modes: modeList, metrics: commands.metrics)
            let title = task == "mrg" ? "Report generation (R2Gen)" : "Medical VQA (LLaVA-style)"
            print(summary.table(title: "\(title), \(Self.evaluationSplit) split, mean +- std over \(seeds) seed(s) (delta vs none)"))
            let (grounding, hints, cases) = task == "mrg" ? try gallery.reportGeneration() : try gallery.questionAnswering()
            if let hints { print("grounder hints on the validation images (\(hints.rule)):\n" + hints.text) }
            sections.append(ReportSection(task: title, summary: summary, grounding: grounding, hints: hints, gallery: cases))
        }
        let html = grid.out.appendingPathComponent("report.html")
        try writeAtomically(Data(AblationReport.html(sections, notes: [reportNote]).utf8), to: html)
        print("report: \(html.path)")
    }

    /// What the report says about the settings every run shared.
    var reportNote: String {
        let localization =
            vqaLocalizationLoss > 0
            ? ", localization loss \(vqaLocalizationLoss), \(vqaLocalizationPretrain) pre-training epochs" : ""
        let thresholds = groundingThresholdPerPhrase ? "thresholds per phrase (best validation hint F1)" : String(groundingThreshold)
        let hedge = groundingHedge > 0 ? ", hedged below \(groundingHedge)" : ""
        let withheld = groundingDropout > 0 ? ", grounding withheld from \(groundingDropout) of training images" : ""
        return "\(seeds) seed(s); report generation \(epochs) epochs per run (weights picked on validation \(selectOn)), "
            + "VQA \(vqaEpochs) (\(vqaLayers) layers\(localization)); grounder detections kept from score \(thresholds)\(hedge)\(withheld). "
            + "CE_micro_F1_negative is CheXpert CE F1 with uncertain as negative; VQA closed accuracy and open recall are LLaVA-Med's."
    }

    /// A task trained through `mrg-train` / `vqa-train` and scored through `mrg-eval` / `vqa-eval`,
    /// exactly as a user would run them.
    struct CommandLineTask: AblationTask {
        let ablation: AblateDownstream
        let name: String
        let registryPath: String

        var metrics: [String] { AblateDownstream.metrics[name]! }
        let evaluationSplit = AblateDownstream.evaluationSplit

        func trainingArguments(mode: String, seed: Int, folder: URL) -> [String] {
            ablation.trainingArguments(name, mode: mode, seed: seed, folder: folder, registryPath: registryPath)
        }

        func train(_ arguments: [String], resume: Bool) throws {
            let all = resume ? arguments + ["--resume"] : arguments
            if name == "mrg" { try MRGTrain.parse(all).run() } else { try VQATrain.parse(all).run() }
        }

        func evaluate(folder: URL) throws {
            let arguments = ablation.evaluationArguments(name, folder: folder, registryPath: registryPath)
            if name == "mrg" { try MRGEval.parse(arguments).run() } else { try VQAEval.parse(arguments).run() }
        }
    }

    /// The `mrg-train` / `vqa-train` arguments of one run.
    func trainingArguments(_ task: String, mode: String, seed: Int, folder: URL, registryPath: String) -> [String] {
        var arguments = ["--registry", registryPath, "--seed", String(seed), "--out", folder.path]
        if let dataset { arguments += ["--dataset", dataset] }
        if let dataDir { arguments += ["--data-dir", dataDir] }
        switch mode {
        case "none": break
        case "oracle": arguments += ["--grounding", "both", "--grounding-source", "oracle"]
        default:
            arguments +=
                [
                    "--grounding", mode, "--grounding-threshold", String(groundingThreshold), "--grounding-hedge", String(groundingHedge),
                    "--grounding-dropout", String(groundingDropout)
                ]
                + (grounder.map { ["--grounder", $0] } ?? []) + (groundingThresholdPerPhrase ? ["--grounding-threshold-per-phrase"] : [])
        }
        arguments += threadArguments
        if task == "mrg" { return arguments + ["--epochs", String(epochs), "--count", String(count), "--select-on", selectOn] }
        let localization =
            vqaLocalizationLoss > 0
            ? ["--localization-loss", String(vqaLocalizationLoss), "--localization-pretrain", String(vqaLocalizationPretrain)] : []
        return arguments + ["--epochs", String(vqaEpochs), "--layers", String(vqaLayers), "--count", String(vqaCount)] + localization
    }

    /// The `mrg-eval` / `vqa-eval` arguments that score the run in `folder`.
    func evaluationArguments(_ task: String, folder: URL, registryPath: String) -> [String] {
        let common = ["--checkpoint", folder.path, "--registry", registryPath] + threadArguments
        return task == "mrg" ? common : common + ["--dataset", dataset ?? "slake", "--split", Self.evaluationSplit]
    }

    var threadArguments: [String] { threadOptions.threads.map { ["--threads", String($0)] } ?? [] }
}
