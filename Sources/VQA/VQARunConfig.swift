import Datasets
import Foundation
import Tensor

/// What a VQA run folder's `config.json` holds: everything needed to rebuild the model and read
/// its data again (the conversation template is kept, so later edits of `Prompts/` do not change
/// a trained run).
public struct VQARunConfig: Codable, Sendable {
    public var model: VQAConfig
    public var head: VQAHead
    public var dataset: VQADatasetKind
    /// The embedded corpus's folder or `--data-dir`.
    public var dataDir: String
    public var seed: UInt64
    /// Epochs planned; the run is finished when `finished.json` records them all.
    public var epochs: Int
    public var template: ConversationTemplate
    public var maxPositions: Int
    /// How VQA-RAD's validation split was carved from its train file; nil: by image (and in runs
    /// from before the option existed).
    public var validationGrouping: VQARAD.ValidationGrouping?
    /// Epochs without a better validation selection score that end the run (nil: every epoch).
    public var patience: Int?
    /// Whether training mirrors images that name no side (nil in runs from before: no).
    public var mirrorImages: Bool?

    public init(
        model: VQAConfig, head: VQAHead, dataset: VQADatasetKind, dataDir: String, seed: UInt64, epochs: Int,
        template: ConversationTemplate, maxPositions: Int, validationGrouping: VQARAD.ValidationGrouping? = nil
    ) {
        self.model = model; self.head = head; self.dataset = dataset; self.dataDir = dataDir; self.seed = seed
        self.epochs = epochs; self.template = template; self.maxPositions = maxPositions; self.validationGrouping = validationGrouping
    }

    /// The run's splits of `root` (its own data folder unless given), carved as it was trained.
    public func splits(root: URL? = nil) throws -> VQASplits {
        try VQASplits.read(dataset, root: root ?? URL(fileURLWithPath: dataDir), grouping: validationGrouping ?? .image)
    }
}

/// Written into a run folder when training has completed every planned epoch.
public struct VQAFinished: Codable, Sendable {
    public var epochs: Int
    public var date: Date
}
