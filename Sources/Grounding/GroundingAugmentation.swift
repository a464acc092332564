import Datasets
import Foundation
import Imaging
import Tensor

/// Training-time changes to an image and its boxes that keep what every box names true. A flip
/// swaps "left" and "right" in the labels (a flipped "right lung" is a left lung), and an image
/// whose swapped label the prompt does not know is not flipped.
public struct GroundingAugmentation: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, CaseIterable, Sendable {
        /// Mirror left-right (half the images).
        case flip
        /// Mirror top-bottom (half the images): for images without an up, such as microscopy.
        case vflip
        /// Resize by a factor in [1 - scaleRange, 1 + scaleRange] and place at a random position,
        /// cropping what falls outside; boxes left with under half their area are dropped.
        case scale
        /// Brightness and contrast jitter (an exposure varies).
        case intensity
    }

    public var kinds: [Kind]
    public var scaleRange: Float = 0.25

    public init(_ kinds: [Kind], scaleRange: Float = 0.25) { self.kinds = kinds; self.scaleRange = scaleRange }

    /// What the embedded phantoms train with (the intensity jitter they always had).
    public static let phantoms = GroundingAugmentation([.intensity])
    /// The default for real images.
    public static let realImages = GroundingAugmentation([.flip, .scale, .intensity])

    public func has(_ kind: Kind) -> Bool { kinds.contains(kind) }

    /// The image's boxes and labels after a random draw of these changes, and the image letterboxed
    /// (or, with `scale`, placed) on a `size` x `size` canvas; boxes in canvas pixels.
    func apply(_ image: Image, regions: [LabeledBox], size: Int, phrases: Set<String>, rng: RandomGenerator) -> (Image, [Box], [String]) {
        var image = image, boxes = regions.map(\.box), labels = regions.map(\.label)
        if has(.intensity) { image = image.jittered(brightness: 0.08, contrast: 0.15, rng: rng) }
        if has(.flip), rng.uniform() < 0.5, let swapped = Self.sidesSwapped(labels, known: phrases) {
            (image, boxes) = image.flippedHorizontally(boxes: boxes)
            labels = swapped
        }
        if has(.vflip), rng.uniform() < 0.5 { (image, boxes) = image.flippedVertically(boxes: boxes) }
        let fit = min(Float(size) / Float(image.width), Float(size) / Float(image.height))
        let factor = has(.scale) ? rng.uniform(1 - scaleRange, 1 + scaleRange) : 1
        let w = Int((Float(image.width) * fit * factor).rounded()), h = Int((Float(image.height) * fit * factor).rounded())
        func offset(_ extent: Int) -> Int {
            guard has(.scale) else { return (size - extent) / 2 }
            let lo = min(0, size - extent), hi = max(0, size - extent)
            return lo + Int(rng.uniform() * Float(hi - lo + 1)).clamped(to: 0...(hi - lo))
        }
        let (placed, transform) = image.placed(onCanvas: size, size, scale: fit * factor, offsetX: offset(w), offsetY: offset(h))
        var kept: [Box] = [], keptLabels: [String] = []
        let canvas = Float(size)
        for (box, label) in zip(boxes, labels) {
            let b = transform.apply(box)
            let clipped = Box(x1: max(0, b.x1), y1: max(0, b.y1), x2: min(canvas, b.x2), y2: min(canvas, b.y2))
            guard clipped.width >= 2, clipped.height >= 2, clipped.area >= 0.5 * b.area else { continue }
            kept.append(clipped); keptLabels.append(label)
        }
        return (placed, kept, keptLabels)
    }

    /// `labels` with "left" and "right" swapped, or nil when a swapped label is not in `known`.
    static func sidesSwapped(_ labels: [String], known: Set<String>) -> [String]? {
        var out: [String] = []
        for label in labels {
            let words = label.split(separator: " ").map { w -> String in
                switch w.lowercased() {
                case "left": return "right"
                case "right": return "left"
                default: return String(w)
                }
            }
            let swapped = words.joined(separator: " ")
            guard swapped == label || known.contains(swapped) else { return nil }
            out.append(swapped)
        }
        return out
    }
}

extension Int {
    fileprivate func clamped(to range: ClosedRange<Int>) -> Int { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
