import ArgumentParser
import Datasets
import Experiments
import Foundation
import Grounding
import Metrics
import Synthetic
import Tensor

/// Med-GLIP's Table II on the embedded seven-modality corpus: untrained, 10% and 100% of the
/// training images with per-modality experts, and 100% with one shared encoder; AP and AP50 on the
/// test split per modality.
struct AblateGrounding: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grounding", abstract: "Table II: grounding AP per modality for untrained / 10% / 100% / shared.")

    @Option(help: "Images per modality in the embedded corpus.") var count = 400
    @Option(help: "Epochs per trained row.") var epochs = 12
    @Option(help: "Model input size.") var imageSize = 256
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Folder for the rows' runs.") var out = "runs/ablate-grounding"
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        try Check.atLeast(count, 1, "--count")
        try Check.atLeast(epochs, 1, "--epochs")
        try GroundTrain.validateImageSize(imageSize)
    }

    func run() throws {
        try threadOptions.apply()
        let dir = try CorpusCache.ensure(.grounding, CorpusParameters(count: count, size: 256, seed: seed))
        let full = try COCO.read(dir.appendingPathComponent("train.json"))
        let tenth = try COCO.read(dir.appendingPathComponent("train_10pct.json"))
        let val = try COCO.read(dir.appendingPathComponent("val.json")), test = try COCO.read(dir.appendingPathComponent("test.json"))
        let rows: [(name: String, train: GroundingSplit?, experts: GroundingConfig.Experts)] = [
            ("untrained", nil, .perModality), ("10%", tenth, .perModality), ("100%", full, .perModality), ("100% shared", full, .shared)
        ]
        var table: [(String, [String: COCOEvalResult])] = []
        for row in rows {
            var config = GroundingConfig()
            config.experts = row.experts
            // Every row shares the tokenizer and prompts built from the full training set.
            let grounder = try Grounder(for: full, config: config, imageSize: imageSize, seed: seed)
            if let train = row.train {
                var options = GroundingTrainingOptions()
                options.epochs = epochs; options.seed = seed
                print("[\(row.name)] training on \(train.samples.count) images for \(epochs) epochs")
                let folder = URL(fileURLWithPath: out).appendingPathComponent(
                    row.name.replacingOccurrences(of: "%", with: "pct").replacingOccurrences(of: " ", with: "-"))
                try grounder.save(to: folder, weights: "last.safetensors")
                try GroundingTrainer(grounder, options: options, folder: folder).train(
                    train.samples, validation: val.samples, categories: full.categories)
                try grounder.model.load(from: folder.appendingPathComponent("model.safetensors"))
            }
            table.append((row.name, try grounder.evaluate(test.samples, categories: full.categories).perModality))
        }
        let modalities = full.modalities
        if json {
            var obj: [String: Any] = [:]
            for (name, results) in table { obj[name] = results.mapValues { ["AP": $0[stat: "AP"]!, "AP50": $0[stat: "AP50"]!] } }
            try printJSON(obj)
        } else {
            print("test AP / AP50 per modality (\(test.samples.count) images)")
            print(
                "row".padding(toLength: 13, withPad: " ", startingAt: 0)
                    + modalities.map { $0.padding(toLength: 14, withPad: " ", startingAt: 0) }.joined())
            for (name, results) in table {
                print(
                    name.padding(toLength: 13, withPad: " ", startingAt: 0)
                        + modalities.map { m in
                            String(format: "%.3f / %.3f  ", results[m]?[stat: "AP"] ?? -1, results[m]?[stat: "AP50"] ?? -1)
                        }.joined())
            }
        }
    }
}
