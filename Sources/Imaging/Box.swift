/// An axis-aligned box in pixel coordinates: (x1, y1) top-left, (x2, y2) bottom-right, continuous
/// (a box covering pixel columns 0...9 spans x1 = 0, x2 = 10).
public struct Box: Equatable, Hashable, Sendable, Codable {
    public var x1, y1, x2, y2: Float

    public init(x1: Float, y1: Float, x2: Float, y2: Float) {
        self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2
    }

    /// From COCO's [x, y, width, height].
    public init(xywh: [Float]) {
        precondition(xywh.count == 4)
        self.init(x1: xywh[0], y1: xywh[1], x2: xywh[0] + xywh[2], y2: xywh[1] + xywh[3])
    }

    public var xywh: [Float] { [x1, y1, x2 - x1, y2 - y1] }
    /// `[x1, y1, x2, y2]`.
    public var corners: [Float] { [x1, y1, x2, y2] }
    public var width: Float { x2 - x1 }
    public var height: Float { y2 - y1 }
    public var area: Float { max(0, width) * max(0, height) }
    public var center: (x: Float, y: Float) { ((x1 + x2) / 2, (y1 + y2) / 2) }
    public var isValid: Bool { x2 > x1 && y2 > y1 && [x1, y1, x2, y2].allSatisfy(\.isFinite) }

    public func clipped(width w: Float, height h: Float) -> Box {
        Box(x1: min(max(x1, 0), w), y1: min(max(y1, 0), h), x2: min(max(x2, 0), w), y2: min(max(y2, 0), h))
    }

    /// Whether the box lies within a `width` x `height` image (a tolerance absorbs rounding in the files).
    public func isInside(width w: Float, height h: Float, tolerance: Float = 1) -> Bool {
        x1 >= -tolerance && y1 >= -tolerance && x2 <= w + tolerance && y2 <= h + tolerance
    }

    public func iou(_ o: Box) -> Float {
        let iw = max(0, min(x2, o.x2) - max(x1, o.x1)), ih = max(0, min(y2, o.y2) - max(y1, o.y1))
        let inter = iw * ih
        let union = area + o.area - inter
        return union > 0 ? inter / union : 0
    }
}

/// A scale-then-shift map between two image frames (resize, letterbox, crop), with its inverse
/// so that boxes predicted on the model's input map back to the original image.
public struct ImageTransform: Equatable, Sendable {
    public var scaleX, scaleY, offsetX, offsetY: Float

    public static let identity = ImageTransform(scaleX: 1, scaleY: 1, offsetX: 0, offsetY: 0)

    public init(scaleX: Float, scaleY: Float, offsetX: Float, offsetY: Float) {
        self.scaleX = scaleX; self.scaleY = scaleY; self.offsetX = offsetX; self.offsetY = offsetY
    }

    public func apply(_ b: Box) -> Box {
        Box(x1: b.x1 * scaleX + offsetX, y1: b.y1 * scaleY + offsetY, x2: b.x2 * scaleX + offsetX, y2: b.y2 * scaleY + offsetY)
    }

    public func invert(_ b: Box) -> Box {
        Box(
            x1: (b.x1 - offsetX) / scaleX, y1: (b.y1 - offsetY) / scaleY,
            x2: (b.x2 - offsetX) / scaleX, y2: (b.y2 - offsetY) / scaleY)
    }

    /// This transform followed by `next`.
    public func then(_ next: ImageTransform) -> ImageTransform {
        ImageTransform(
            scaleX: scaleX * next.scaleX, scaleY: scaleY * next.scaleY,
            offsetX: offsetX * next.scaleX + next.offsetX, offsetY: offsetY * next.scaleY + next.offsetY)
    }
}

/// `[x1, y1, x2, y2]` written in code (tests, constants); boxes read from files go through `init(x1:y1:x2:y2:)`.
extension Box: ExpressibleByArrayLiteral {
    public init(arrayLiteral corners: Float...) {
        precondition(corners.count == 4, "a box literal is [x1, y1, x2, y2]")
        self.init(x1: corners[0], y1: corners[1], x2: corners[2], y2: corners[3])
    }
}
