import Foundation
import Imaging
import Tensor

/// A rendered synthetic image with the masks of the structures and findings it shows.
public struct Phantom: Sendable {
    public var image: Image
    public var regions: [RegionMask]
    public var modality: String
    public init(image: Image, regions: [RegionMask], modality: String) {
        self.image = image; self.regions = regions; self.modality = modality
    }
}

/// Renders one modality's phantoms. Label names are the grounding phrases; `hierarchy` maps a
/// child label to its parent (organ -> sub-structure / lesion), as Med-GLIP-5M's categories do.
public protocol PhantomRenderer: Sendable {
    var modality: String { get }
    var hierarchy: [String: String] { get }
    func render(size: Int, rng: RandomGenerator) -> Phantom
}
