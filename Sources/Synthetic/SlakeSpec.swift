import Datasets
import Foundation

/// `Corpora/slake/questions.json`: the SLAKE-format corpus's structures (mask ids, words, answers),
/// per-modality answers, question templates, answer vocabulary, thresholds and content-type mix.
/// Field names follow the file (snake_case) so that the file reads as the documentation.
public struct SlakeSpec: Codable, Sendable {
    public static let file = "slake/questions.json"

    public struct Modality: Codable, Sendable {
        public var answer: String
        public var word: String
        public var plane: String
        public var location: String
        public var frame: [String]
        public var zones: [String]
        public var findings: [String]
        public var organs_for_abnormality: [String]
        public var quadrant_organs: [String]
    }

    public enum Kind: String, Codable, Sendable { case container, organ, finding, device }

    public struct Position: Codable, Sendable { public var one: String; public var both: String }

    public struct Structure: Codable, Sendable {
        public var id: Int
        public var kind: Kind
        public var noun: String
        public var plural: String?
        public var indefinite: String?
        public var answer: String
        /// Organs: the group counted together ("lung" for both lungs). Findings: the organ they affect.
        public var group: String?
        public var organ: String?
        public var focal: Bool?
        public var position: Position?
    }

    /// A finding measured rather than drawn as its own region (cardiomegaly, from the heart's box).
    public struct Derived: Codable, Sendable {
        public var noun: String; public var indefinite: String; public var answer: String; public var organ: String
    }

    public struct Thresholds: Codable, Sendable {
        public var min_area_fraction: Double
        public var side_margin: Float
        public var dark_below: Float
        public var bright_above: Float
        public var contrast: Float
        public var round_max_elongation: Float
        public var irregular_below_fill: Float
        public var size_small_below: Float
        public var size_large_above: Float
        public var width_percentages: [Int]
        public var size_margin: Float
        public var larger_margin: Float
        public var quadrant_dominance: Float
        public var cardiothoracic_ratio: Float
    }

    public struct Template: Codable, Sendable {
        public var id: String
        public var content_type: String
        public var answer_type: AnswerType
        public var texts: [String]
        /// Relative weight among its content type's templates (1 when absent).
        public var weight: Double?
    }

    public var questions_per_image: Int
    public var jpeg_quality: Int
    public var splits: [String: Double]
    public var modalities: [String: Modality]
    public var planes: [String: String]
    public var structures: [String: Structure]
    public var ignored_labels: [String]
    public var derived_findings: [String: Derived]
    public var answers: [String: String]
    public var image_regions: [[String]]
    public var quadrants: [String]
    public var thresholds: Thresholds
    public var content_types: [String: Double]
    public var templates: [Template]

    public static func load() throws -> SlakeSpec {
        let spec = try CorpusSpecs.load(SlakeSpec.self, file)
        try spec.validate(path: file)
        return spec
    }

    /// A word of the answer vocabulary; the keys are fixed by the code, so a missing one is a bug
    /// in the file that `validate` reports before any image is made.
    func word(_ key: String) -> String { answers[key] ?? key }

    static let answerKeys = [
        "yes", "no", "right", "left", "darker", "brighter", "none", "dark", "gray", "bright",
        "round", "oval", "irregular", "small", "medium", "large"
    ]

    /// Checks what the decoder cannot: ids unique and non-zero, every template known to the code,
    /// every content type weighted, every answer word present, 3x3 image regions.
    func validate(path: String) throws {
        let ids = structures.values.map(\.id)
        guard Set(ids).count == ids.count, ids.allSatisfy({ (1...255).contains($0) }) else {
            throw DatasetError(path, "structure ids must be distinct and within 1...255 (they are mask.png pixel values)")
        }
        for t in templates {
            guard SlakeQuestions.known.contains(t.id) else { throw DatasetError(path, "template '\(t.id)' is not implemented") }
            guard content_types[t.content_type] != nil else {
                throw DatasetError(path, "template '\(t.id)': content type '\(t.content_type)' has no weight")
            }
            guard !t.texts.isEmpty else { throw DatasetError(path, "template '\(t.id)' has no texts") }
        }
        if let missing = Self.answerKeys.first(where: { answers[$0] == nil }) { throw DatasetError(path, "answers lacks '\(missing)'") }
        guard image_regions.count == 3, image_regions.allSatisfy({ $0.count == 3 }), quadrants.count == 4 else {
            throw DatasetError(path, "image_regions must be 3x3 and quadrants 4 names")
        }
        for (name, m) in modalities where m.zones.count != 3 { throw DatasetError(path, "modality \(name): zones must be 3 words") }
    }
}
