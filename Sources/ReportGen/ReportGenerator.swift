import Datasets
import Foundation
import Tensor

/// What a report-generation run folder's `config.json` holds.
public struct ReportRunConfig: Codable, Sendable {
    public var model: ReportGenConfig
    /// Where the data came from: the embedded corpus's folder or `--data-dir`.
    public var dataDir: String
    public var seed: UInt64
    /// Epochs without a better validation selection metric that end the run (nil: every epoch, and
    /// runs from before it was recorded).
    public var patience: Int?
    /// Epochs at most when chosen from the data (nil: `--epochs` or its default, and older runs).
    public var epochs: Int?
    public init(model: ReportGenConfig, dataDir: String, seed: UInt64, patience: Int? = nil, epochs: Int? = nil) {
        self.model = model; self.dataDir = dataDir; self.seed = seed; self.patience = patience; self.epochs = epochs
    }
}

/// A trained (or initialised) R2Gen model with its tokenizer: generates reports for studies.
/// A run folder holds `config.json`, `tokenizer.json` and the weights (`model.safetensors` = best).
public final class ReportGenerator {
    public let run: ReportRunConfig
    public let tokenizer: ReportTokenizer
    public let model: R2GenModel
    /// The metadata of the weights loaded from a run folder (the trainer writes `epoch`).
    public private(set) var weightsMetadata: [String: String] = [:]

    public init(_ run: ReportRunConfig, tokenizer: ReportTokenizer) {
        self.run = run; self.tokenizer = tokenizer
        model = R2GenModel(run.model, vocabularySize: tokenizer.vocabularySize, seed: run.seed)
    }

    public convenience init(runFolder: URL, weights: String = "model.safetensors") throws {
        let run = try decodeJSON(ReportRunConfig.self, from: runFolder.appendingPathComponent("config.json"))
        self.init(run, tokenizer: try decodeJSON(ReportTokenizer.self, from: runFolder.appendingPathComponent("tokenizer.json")))
        weightsMetadata = try model.load(from: runFolder.appendingPathComponent(weights))
    }

    public func save(to folder: URL, weights: String = "model.safetensors", metadata: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try writeJSON(run, to: folder.appendingPathComponent("config.json"))
        try writeJSON(tokenizer, to: folder.appendingPathComponent("tokenizer.json"))
        try model.save(to: folder.appendingPathComponent(weights), metadata: metadata)
    }

    public var loader: ReportLoader { ReportLoader(config: run.model, tokenizer: tokenizer) }

    /// Generated reports, in input order, by beam search (size `beamSize`, default the config's).
    public func generate(_ examples: [ReportExample], beamSize: Int? = nil, batchSize: Int = 16) -> [String] {
        let k = beamSize ?? run.model.beamSize
        let search = BeamSearch(beamSize: k, maxLength: run.model.dataset.maxSequenceLength)
        model.eval()
        defer { model.train() }
        return withNoGrad {
            stride(from: 0, to: examples.count, by: batchSize).flatMap { from -> [String] in
                let chunk = Array(examples[from..<min(from + batchSize, examples.count)])
                let encoded = encode(chunk)
                // One row per hypothesis: each study's encoding repeated beam-size times.
                var stepper = R2GenStepper(model, encoded: encoded.rows((0..<(chunk.count * k)).map { $0 / k }))
                return search.run(&stepper, batch: chunk.count).map(tokenizer.decode)
            }
        }
    }

    /// The encoder's output for `studies` (centre crops), with their injected grounding.
    public func encode(_ studies: [ReportExample]) -> EncodedStudy {
        let features = model.attentionFeatures(
            loader.batch(studies, rngs: nil), views: run.model.dataset.viewsPerStudy, regions: studies.map(\.regions))
        return model.encode(features, hints: studies.map(\.hints))
    }

    /// Each study's mean patch feature from the visual extractor (for nearest-neighbour retrieval).
    public func imageFeatures(_ examples: [ReportExample], batchSize: Int = 32) -> [[Float]] {
        model.eval()
        defer { model.train() }
        return withNoGrad {
            stride(from: 0, to: examples.count, by: batchSize).flatMap { from -> [[Float]] in
                let chunk = Array(examples[from..<min(from + batchSize, examples.count)])
                let feats = model.attentionFeatures(loader.batch(chunk, rngs: nil), views: run.model.dataset.viewsPerStudy).mean(axis: 1)
                let c = feats.shape[1]
                return (0..<chunk.count).map { Array(feats.data[($0 * c)..<(($0 + 1) * c)]) }
            }
        }
    }

    /// The reference R2Gen scores against: the report as the tokenizer sees it (cleaned, rare words
    /// as `<unk>`, cut at the maximum length), i.e. `decode(ids[1:])`.
    public func reference(_ example: ReportExample) -> String { tokenizer.decode(Array(example.sequence.dropFirst())) }
}
