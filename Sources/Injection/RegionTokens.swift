import Imaging
import Tensor

/// Turns grounded regions into visual tokens for a downstream model (Med-GLIP's injection):
/// RoIAlign-pooled features from that model's own feature map, plus embeddings of the box
/// geometry and of the phrase, plus a learned type embedding. Every image gets `slots` tokens;
/// unused slots hold a learned "no region" token, so batches need no padding mask.
public final class RegionTokenEncoder: Module {
    let geometry: Linear
    let phraseEmbedding: Embedding
    let typeEmbedding, emptyToken: Tensor
    public let phrases: [String]
    public let slots: Int

    public init(width: Int, phrases: [String], slots: Int, rng: RandomGenerator) {
        self.phrases = phrases; self.slots = slots
        geometry = Linear(7, width, rng: rng)
        // Index 0 stands for a phrase the vocabulary does not know.
        phraseEmbedding = Embedding(phrases.count + 1, width, rng: rng)
        typeEmbedding = Tensor.randn([width], std: 0.02, rng: rng, requiresGrad: true)
        emptyToken = Tensor.randn([width], std: 0.02, rng: rng, requiresGrad: true)
    }

    /// Normalised x1, y1, x2, y2, w, h, area of a box given in [0, 1] image coordinates.
    static func geometryFeatures(_ b: Box) -> [Float] {
        [b.x1, b.y1, b.x2, b.y2, b.width, b.height, b.width * b.height]
    }

    /// `featureMap [B, C, g, g]` of the images the regions lie on; `regions[b]` has boxes in [0, 1]
    /// image coordinates (at most `slots` are used, in order). Returns `[B, slots, C]`.
    public func forward(_ featureMap: Tensor, regions: [[GroundedRegion]]) -> Tensor {
        let (b, c, g) = (featureMap.shape[0], featureMap.shape[1], featureMap.shape[2])
        var rois: [RoI] = [], geometryRows: [Float] = [], phraseIDs: [Int] = [], slotSource: [Int] = []
        for (i, image) in regions.enumerated() {
            for r in image.prefix(slots) {
                rois.append(RoI(batchIndex: i, x1: r.box.x1, y1: r.box.y1, x2: r.box.x2, y2: r.box.y2))
                geometryRows += Self.geometryFeatures(r.box)
                phraseIDs.append((phrases.firstIndex(of: r.phrase) ?? -1) + 1)
            }
        }
        var rows: [Tensor] = []
        if !rois.isEmpty {
            let pooled = roiAlign(featureMap, rois: rois, outputSize: (2, 2), spatialScale: Float(g)).mean(axes: [2, 3])
            let geometryTensor = Tensor(shape: [rois.count, 7], data: geometryRows)
            rows.append(pooled + geometry(geometryTensor) + phraseEmbedding.forward(phraseIDs, shape: [rois.count]) + typeEmbedding)
        }
        rows.append(emptyToken.reshaped([1, c]))
        let empty = rois.count
        var next = 0
        for image in regions {
            let used = min(image.count, slots)
            slotSource += (0..<slots).map { $0 < used ? next + $0 : empty }
            next += used
        }
        return Tensor.concat(rows, axis: 0).indexSelect(axis: 0, slotSource).reshaped([b, slots, c])
    }
}
