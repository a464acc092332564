import Datasets
import Foundation
import Imaging
import Tensor

/// The phrases each modality's prompt lists, in a fixed order (the category order of the data).
public func modalityPrompts(_ split: GroundingSplit) -> [String: [String]] {
    var labels: [String: Set<String>] = [:]
    for s in split.samples { labels[s.modality ?? "unknown", default: []].formUnion(s.regions.map(\.label)) }
    let order = split.categories.map(\.name)
    return labels.mapValues { set in order.filter(set.contains) }
}

/// One model-ready image: letterboxed to the input size, with its targets and the transform back.
struct PreparedImage {
    var pixels: [Float]  // [3, S, S]
    var target: GroundingTarget
    var transform: ImageTransform
}

/// Reads and letterboxes a sample; boxes follow into the model input's pixels. With `rng`
/// (training), `augmentation` draws its changes first.
func prepare(
    _ sample: GroundingSample, size: Int, prompt: GroundingPrompt, rng: RandomGenerator?, augmentation: GroundingAugmentation = .phantoms
) throws -> PreparedImage {
    let image = try ImageIO.read(sample.imageURL).rgb()
    let boxed: Image, transform: ImageTransform, regions: [(Box, String)]
    if let rng {
        let (placed, boxes, labels) = augmentation.apply(image, regions: sample.regions, size: size, phrases: Set(prompt.phrases), rng: rng)
        (boxed, transform, regions) = (placed, .identity, Array(zip(boxes, labels)))
    } else {
        (boxed, transform) = image.letterboxed(to: size)
        regions = sample.regions.map { (transform.apply($0.box), $0.label) }
    }
    var boxes: [Box] = [], phrases: [Int] = []
    for (box, label) in regions {
        guard let k = prompt.phrases.firstIndex(of: label) else { continue }
        boxes.append(box); phrases.append(k)
    }
    return PreparedImage(
        pixels: boxed.normalized(mean: [0.5], std: [0.25]).pixels, target: GroundingTarget(boxes: boxes, phrases: phrases),
        transform: transform)
}

/// Batches of one modality each (a batch shares its prompt and image encoder), in a seeded order.
func modalityBatches(_ samples: [GroundingSample], batchSize: Int, rng: RandomGenerator?) -> [[GroundingSample]] {
    var byModality: [String: [GroundingSample]] = [:]
    for s in samples { byModality[s.modality ?? "unknown", default: []].append(s) }
    var batches: [[GroundingSample]] = []
    for key in byModality.keys.sorted() {
        var list = byModality[key]!
        if let rng { rng.shuffle(&list) }
        batches += stride(from: 0, to: list.count, by: batchSize).map { Array(list[$0..<min(list.count, $0 + batchSize)]) }
    }
    if let rng { rng.shuffle(&batches) }
    return batches
}
