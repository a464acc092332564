import Foundation
import Imaging
import Tensor

/// A grounded phrase: its box in original-image pixels and its score.
public struct Detection: Sendable, Equatable, Codable {
    public var phrase: Int
    public var label: String
    public var box: Box
    public var score: Float
}

/// GLIP's inference: a phrase's score is the mean probability of its tokens, the final score
/// sqrt(phrase score x centerness); boxes above the threshold go through class-wise NMS and are
/// mapped back to the original image.
public struct Postprocess: Sendable {
    public var scoreThreshold: Float = 0.05
    public var nmsThreshold: Float = 0.6
    public var maxDetections = 100

    public init() {}

    /// Detections of image `i` of the batch; `transform` maps original-image boxes to model input.
    func detections(
        _ out: AlignmentHead.Output, image i: Int, grid: PointGrid, prompt: GroundingPrompt,
        transform: ImageTransform, width: Int, height: Int
    ) -> [Detection] {
        let (p, t) = (out.logits.shape[1], out.logits.shape[2])
        var boxes: [Box] = [], scores: [Float] = [], classes: [Int] = []
        for point in 0..<p {
            let ctr = sigmoid(out.centerness.data[i * p + point])
            for (k, tokens) in prompt.positiveMap.enumerated() where !tokens.isEmpty {
                let probs = tokens.map { sigmoid(out.logits.data[(i * p + point) * t + $0]) }
                let score = (probs.reduce(0, +) / Float(tokens.count) * ctr).squareRoot()
                guard score > scoreThreshold else { continue }
                let o = (i * p + point) * 4
                let ltrb = Array(out.ltrb.data[o..<(o + 4)])
                boxes.append(BoxCoding.decode(ltrb, point: grid.points[point], stride: grid.level(of: point).stride))
                scores.append(score); classes.append(k)
            }
        }
        let kept = classwiseNMS(boxes: boxes, scores: scores, classes: classes, iouThreshold: nmsThreshold, limit: maxDetections)
        return kept.map { j in
            Detection(
                phrase: classes[j], label: prompt.phrases[classes[j]],
                box: transform.invert(boxes[j]).clipped(width: Float(width), height: Float(height)), score: scores[j])
        }
    }
}

func sigmoid(_ x: Float) -> Float { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
