import Datasets
import Foundation
import Injection
import Text

/// Which R2Gen dataset conventions apply: views per study, cleaning rules, vocabulary threshold and
/// maximum sequence length (R2Gen's `run_iu_xray.sh` / `run_mimic_cxr.sh`).
public enum ReportDatasetKind: String, Codable, Sendable, CaseIterable {
    case iuXray = "iu-xray", mimicCXR = "mimic-cxr"

    public var viewsPerStudy: Int { self == .iuXray ? 2 : 1 }
    public var cleaning: R2GenCleaning.Dataset { self == .iuXray ? .iuXray : .mimicCXR }
    public var vocabularyThreshold: Int { self == .iuXray ? 3 : 10 }
    public var maxSequenceLength: Int { self == .iuXray ? 60 : 100 }

    /// The dataset in R2Gen's layout in `folder` (annotation.json + images/). MIMIC-CXR studies may
    /// list several images; R2Gen uses the first.
    public func read(_ folder: URL) throws -> ReportDataset {
        try R2Gen.read(folder.appendingPathComponent("annotation.json"), viewsPerStudy: self == .iuXray ? 2 : nil)
    }
}

/// Sizes of the memory-driven transformer. `paper` is R2Gen's setting; `cpu` is small enough to
/// train the demo in minutes on two cores.
public struct ReportGenConfig: Codable, Sendable, Equatable {
    public var dataset: ReportDatasetKind = .iuXray
    public var imageSize = 128
    /// Visual extractor widths: stem, then one stride-2 residual stage per entry after the first.
    public var channels = [16, 32, 64, 128]
    public var dModel = 128
    public var dFF = 256
    public var heads = 4
    public var layers = 2
    public var memorySlots = 3
    public var dropout: Float = 0.1
    public var beamSize = 3
    /// Grounding injected into the model (none by default: R2Gen as published).
    public var injection = InjectionOptions()

    public init(dataset: ReportDatasetKind = .iuXray) { self.dataset = dataset }

    public enum Preset: String, Sendable, CaseIterable { case cpu, paper }

    public static func preset(_ preset: Preset, dataset: ReportDatasetKind) -> ReportGenConfig {
        var c = ReportGenConfig(dataset: dataset)
        if preset == .paper {
            // R2Gen: d_model 512, d_ff 512, 8 heads, 3 layers, 3 memory slots, 224 px inputs giving a 7x7 grid.
            c.imageSize = 224; c.channels = [64, 128, 256, 512, 512]
            c.dModel = 512; c.dFF = 512; c.heads = 8; c.layers = 3
        }
        return c
    }

    /// Side of the patch grid per view: the stem and every stage halve the image.
    public var gridSize: Int { imageSize >> channels.count }
}
