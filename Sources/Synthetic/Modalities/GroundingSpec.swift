import Foundation

/// One modality's entry in `Corpora/grounding/modalities.json`: the labels its phantoms may emit,
/// the label hierarchy (child -> parent, the COCO supercategory), which labels are findings, the
/// phrase a grounding prompt uses for each label and synonyms that unify raw names.
public struct ModalitySpec: Codable, Sendable, Equatable {
    public var description: String
    public var channels: Int
    public var labels: [String]
    public var hierarchy: [String: String]
    public var findings: [String]
    public var prompts: [String: String]
}

/// The grounding corpus specification, keyed by modality name.
public enum GroundingSpec {
    public static let file = "grounding/modalities.json"

    public static func load() throws -> [String: ModalitySpec] {
        try CorpusSpecs.load([String: ModalitySpec].self, file)
    }

    /// The six non-radiograph renderers, their hierarchies taken from the spec so that the file,
    /// not the code, says how labels nest. (The chest X-ray renderer is added by the caller.)
    public static func renderers(_ spec: [String: ModalitySpec]) -> [any PhantomRenderer] {
        func h(_ m: String) -> [String: String] { spec[m]?.hierarchy ?? [:] }
        return [
            CTPhantom(hierarchy: h("CT")), MRIPhantom(hierarchy: h("MRI")),
            UltrasoundPhantom(hierarchy: h("Ultrasound")), EndoscopyPhantom(hierarchy: h("Endoscopy")),
            DermoscopyPhantom(hierarchy: h("Dermoscopy")), FundusPhantom(hierarchy: h("Fundus"))
        ]
    }
}
