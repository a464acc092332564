import Foundation
import Imaging

/// One phrase a grounder found in an image, with its score and box. On disk (the detections cache,
/// JSON) the box is `[x1, y1, x2, y2]`, as before it was a `Box`.
public struct GroundedRegion: Sendable, Equatable {
    public var phrase: String
    public var score: Float
    /// Pixels of the original image, or [0, 1] coordinates once `normalized`.
    public var box: Box

    public init(phrase: String, score: Float, box: Box) { self.phrase = phrase; self.score = score; self.box = box }

    /// The box in [0, 1] coordinates of an image `width x height` pixels.
    public func normalized(width: Int, height: Int) -> GroundedRegion {
        let (w, h) = (Float(width), Float(height))
        return GroundedRegion(phrase: phrase, score: score, box: Box(x1: box.x1 / w, y1: box.y1 / h, x2: box.x2 / w, y2: box.y2 / h))
    }
}

extension GroundedRegion: Codable {
    private enum CodingKeys: String, CodingKey { case phrase, score, box }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let corners = try c.decode([Float].self, forKey: .box)
        guard corners.count == 4 else {
            throw DecodingError.dataCorruptedError(forKey: .box, in: c, debugDescription: "a box is [x1, y1, x2, y2], got \(corners.count) numbers")
        }
        self.init(
            phrase: try c.decode(String.self, forKey: .phrase), score: try c.decode(Float.self, forKey: .score),
            box: Box(x1: corners[0], y1: corners[1], x2: corners[2], y2: corners[3]))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(phrase, forKey: .phrase)
        try c.encode(score, forKey: .score)
        try c.encode([box.x1, box.y1, box.x2, box.y2], forKey: .box)
    }
}
