import ArgumentParser
import Datasets
import Foundation
import ReportGen
import Tensor

/// `medglip bench data`: how fast the streaming pipeline decodes a report dataset's training
/// studies (the workers alone, no model), to set against training throughput.
struct DataBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Time the streaming data pipeline alone on a report dataset (R2Gen layout).")

    @Option(help: "Dataset conventions.") var dataset: ReportDatasetKind = .mimicCXR
    @Option(help: "Folder with R2Gen's annotation.json and images/.") var dataDir: String
    @Option(help: "Training studies to decode.") var studies = 4_000
    @Option(help: "Studies per step.") var batchSize = 16
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        try Check.atLeast(studies, 1, "--studies")
        try Check.atLeast(batchSize, 1, "--batch-size")
    }

    func run() throws {
        try threadOptions.apply()
        let start = Date()
        let data = try dataset.read(URL(fileURLWithPath: dataDir))
        let read = Date().timeIntervalSince(start)
        let sample = Array(data.train.prefix(studies))
        let tokenizer = ReportTokenizer(trainingReports: sample.map(\.report), dataset: dataset.cleaning, threshold: dataset.vocabularyThreshold)
        let loader = ReportLoader(config: ReportGenConfig.preset(.cpu, dataset: dataset), tokenizer: tokenizer)
        let pending = try loader.load(sample, from: data, split: "train", stream: true)
        let rate = try loader.decodeRate(pending, batchSize: batchSize)
        print(String(format: "annotation.json: %d studies read in %.1f s", data.train.count + data.val.count + data.test.count, read))
        print(String(format: "decoded %d studies (views, CheXpert labels) at %.0f studies/s on %d threads", pending.count, rate, Threads.count))
    }
}
