import Foundation
import Imaging

/// One labelled region: a phrase (category name) and its box in original-image pixels.
public struct LabeledBox: Equatable, Sendable {
    public var label: String
    public var box: Box
    public init(label: String, box: Box) { self.label = label; self.box = box }
}

/// An image with its regions, as every detection/grounding format is read into.
public struct GroundingSample: Equatable, Sendable {
    public var imageID: Int
    public var imageURL: URL
    public var width: Int
    public var height: Int
    public var modality: String?
    public var regions: [LabeledBox]

    public init(imageID: Int, imageURL: URL, width: Int, height: Int, modality: String? = nil, regions: [LabeledBox]) {
        self.imageID = imageID; self.imageURL = imageURL; self.width = width; self.height = height
        self.modality = modality; self.regions = regions
    }
}

/// A category and, when known, its parent in the label hierarchy (organ -> sub-structure / lesion).
public struct Category: Equatable, Sendable {
    public var id: Int
    public var name: String
    public var parent: String?
    public init(id: Int, name: String, parent: String? = nil) { self.id = id; self.name = name; self.parent = parent }
}

/// A split of a grounding dataset in the shared in-memory form.
public struct GroundingSplit: Sendable {
    public var samples: [GroundingSample]
    public var categories: [Category]
    public init(samples: [GroundingSample], categories: [Category]) { self.samples = samples; self.categories = categories }

    /// Every modality present (samples without one count as "unknown").
    public var modalities: [String] { Array(Set(samples.map { $0.modality ?? "unknown" })).sorted() }
}
