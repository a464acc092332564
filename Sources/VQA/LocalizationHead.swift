import Injection
import Tensor

/// Options of the auxiliary localization loss (`vqa-train --localization-loss W`).
public struct LocalizationOptions: Codable, Sendable, Equatable {
    /// The box labels the head predicts (the training split's, e.g. SLAKE's `detection.json`).
    public var labels: [String]
    /// Weight of the localization loss next to the answer loss.
    public var weight: Float
    /// Epochs of the vision encoder on this loss alone before the VQA epochs (nil: none).
    public var pretrainEpochs: Int?
    /// A SLAKE-format folder whose images and boxes those epochs train on instead of the training
    /// split's (nil: the training split).
    public var pretrainDataDir: String?

    public init(labels: [String], weight: Float, pretrainEpochs: Int? = nil, pretrainDataDir: String? = nil) {
        self.labels = labels; self.weight = weight; self.pretrainEpochs = pretrainEpochs; self.pretrainDataDir = pretrainDataDir
    }
}

/// Training-time supervision for the vision encoder: from each patch of the CNN's last map, predict
/// which annotated structures (organs, findings) it overlaps. Answer loss alone reaches the CNN
/// only through a few hundred yes/no answers per finding; box labels tell it where every finding is
/// in every training image. Used only in training: answering never reads it. SLAKE ships these
/// boxes (`detection.json`) for exactly this kind of use (Liu et al. 2021).
final class LocalizationHead: Module {
    let classifier: Linear

    init(width: Int, labels: Int, rng: RandomGenerator) {
        classifier = Linear(width, labels, rng: rng)
        // RetinaNet's prior (Lin et al. 2017): start every logit at p = 0.01, so the many
        // negatives do not swamp the first steps.
        Init.constant(classifier.bias!, -4.595)
    }

    /// Sigmoid focal loss of the per-patch logits of `map` `[B, C, g, g]` against `targets`
    /// `[B, g * g, labels]`, normalised by the number of positives as RetinaNet and GLIP do, without
    /// RetinaNet's alpha = 0.25, which weighs positives down: on the SLAKE-format corpus it left
    /// liver lesions found in 13% of validation images at p >= 0.5 after 30 pre-training epochs, 33%
    /// without it.
    func loss(_ map: Tensor, targets: Tensor) -> Tensor {
        let positives = max(1, targets.data.reduce(0, +))
        return sigmoidFocalLoss(logits(map), targets: targets, alpha: -1) / positives
    }

    /// Per-patch logits `[B, g * g, labels]` of the map `[B, C, g, g]`.
    func logits(_ map: Tensor) -> Tensor { classifier(map.spatialTokens()) }

    /// Targets `[B, g * g, labels.count]`: 1 where a box of that label overlaps the patch. `boxes[b]`
    /// are in [0, 1] coordinates of an image loaded at `loadSide` pixels and cropped to `cropSide`
    /// from `crops[b]` (top-left corner, pixels); patches are the `g x g` cells of the crop.
    static func targets(_ boxes: [[GroundedRegion]], labels: [String], crops: [(x: Int, y: Int)], loadSide: Int, cropSide: Int, grid g: Int) -> Tensor
    {
        let index = Dictionary(labels.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let k = labels.count, cell = Float(cropSide) / Float(g), l = Float(loadSide)
        var out = [Float](repeating: 0, count: boxes.count * g * g * k)
        for (b, regions) in boxes.enumerated() {
            for region in regions {
                guard let label = index[region.phrase] else { continue }
                // The box in crop pixels, then the cells it overlaps with positive area.
                let x1 = region.box.x1 * l - Float(crops[b].x), x2 = region.box.x2 * l - Float(crops[b].x)
                let y1 = region.box.y1 * l - Float(crops[b].y), y2 = region.box.y2 * l - Float(crops[b].y)
                guard x2 > 0, y2 > 0, x1 < Float(cropSide), y1 < Float(cropSide), x2 > x1, y2 > y1 else { continue }
                let (cx1, cx2) = (max(0, Int(x1 / cell)), min(g - 1, Int((x2 / cell).nextDown)))
                let (cy1, cy2) = (max(0, Int(y1 / cell)), min(g - 1, Int((y2 / cell).nextDown)))
                guard cx1 <= cx2, cy1 <= cy2 else { continue }
                for cy in cy1...cy2 { for cx in cx1...cx2 { out[((b * g + cy) * g + cx) * k + label] = 1 } }
            }
        }
        return Tensor(shape: [boxes.count, g * g, k], data: out)
    }
}
