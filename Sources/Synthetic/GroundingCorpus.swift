import Datasets
import Foundation
import Imaging
import Tensor

/// The seven-modality synthetic grounding corpus (Med-GLIP-5M style): phantoms of every modality,
/// boxes derived from their masks, written as COCO with per-image modality and the label hierarchy
/// as supercategories.
///
/// Layout of `dir`: `images/<modality>_<n>.png`, `train.json`, `val.json`, `test.json` (80/10/10 per
/// modality) and `train_10pct.json` (10% of each modality's training images, Med-GLIP Table II's
/// low-data setting). Everything is a function of the seed: each image's generator is seeded from
/// (seed, modality, index) alone, so adding or removing a modality leaves the others' images intact.
public enum GroundingCorpus {
    /// The chest X-ray renderer plus the six renderers of `Corpora/grounding/modalities.json`.
    public static func defaultRenderers() throws -> [any PhantomRenderer] {
        [try ChestXrayRenderer()] + GroundingSpec.renderers(try GroundingSpec.load())
    }

    /// Renders `countPerModality` phantoms per renderer at `size` x `size` and writes the corpus.
    /// `minAreaFraction` drops mask components below that fraction of the image. Med-GLIP-5M used
    /// 1.5%, which would erase most lesions here (a liver lesion of 4% of the width covers ~0.13% of
    /// the image), so the default keeps anything from 0.05% (a disc about 2.5% of the width across).
    public static func generate(
        to dir: URL, renderers: [any PhantomRenderer], countPerModality: Int, size: Int, seed: UInt64,
        minAreaFraction: Double = 0.0005
    ) throws {
        let modalities = renderers.map(\.modality)
        guard Set(modalities).count == modalities.count else { throw DatasetError(dir, "two renderers share a modality: \(modalities)") }
        let parents = try parents(renderers, dir: dir)
        let images = dir.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        let count = countPerModality
        let rendered = try generateInParallel(renderers.count * count) { job in
            try renderOne(renderers[job / count], index: job % count, size: size, seed: seed, minAreaFraction: minAreaFraction, images: images)
        }
        let categories = categories(parents, rendered)
        let samples = rendered.enumerated().map { id, r in
            GroundingSample(
                imageID: id + 1, imageURL: images.appendingPathComponent(r.file), width: size, height: size,
                modality: r.modality, regions: r.regions)
        }
        let parts = splits(modalities: modalities, count: count, seed: seed)
        for (name, indices) in [("train", parts.train), ("val", parts.val), ("test", parts.test), ("train_10pct", parts.train10)] {
            let split = GroundingSplit(samples: indices.sorted().map { samples[$0] }, categories: categories)
            try COCO.write(split, to: dir.appendingPathComponent("\(name).json"), imagesRoot: dir)
        }
    }

    /// One image: render, write the PNG, and box every mask component big enough to keep.
    struct Rendered: Sendable {
        var file: String
        var modality: String
        var regions: [LabeledBox]
    }

    static func renderOne(
        _ renderer: any PhantomRenderer, index: Int, size: Int, seed: UInt64, minAreaFraction: Double,
        images: URL
    ) throws -> Rendered {
        let rng = RandomGenerator(seed: imageSeed(seed, renderer.modality, index))
        let phantom = renderer.render(size: size, rng: rng)
        let file = "\(renderer.modality)_\(index).png"
        // Fast deflate: encoding, not rendering, would otherwise dominate generation time.
        try ImageIO.writePNG(phantom.image, to: images.appendingPathComponent(file), fast: true)
        var builder = MaskToGrounding()
        builder.grouping = .component
        builder.minAreaFraction = minAreaFraction
        let (w, h) = (phantom.image.width, phantom.image.height)
        let regions = phantom.regions.flatMap { builder.boxes($0.inside, w, h, label: builder.unify($0.label)) }
        return Rendered(file: file, modality: renderer.modality, regions: regions)
    }

    /// Child -> parent over all renderers' hierarchies (names unified); a label given different
    /// parents by two modalities is an error, since COCO has one supercategory per category.
    static func parents(_ renderers: [any PhantomRenderer], dir: URL) throws -> [String: String] {
        let unify = MaskToGrounding().unify
        var parent: [String: (name: String, modality: String)] = [:]
        for r in renderers {
            for (child, p) in r.hierarchy.sorted(by: { $0.key < $1.key }) {
                let (c, p) = (unify(child), unify(p))
                if let old = parent[c], old.name != p {
                    throw DatasetError(dir, "label '\(c)' has parent '\(old.name)' in \(old.modality) but '\(p)' in \(r.modality)")
                }
                parent[c] = (p, r.modality)
            }
        }
        return parent.mapValues(\.name)
    }

    /// Every emitted or declared label, sorted by name and numbered from 1, with its parent.
    static func categories(_ parents: [String: String], _ rendered: [Rendered]) -> [Category] {
        let names = Set(rendered.flatMap { $0.regions.map(\.label) }).union(parents.keys).union(parents.values)
        return names.sorted().enumerated().map { Category(id: $0.offset + 1, name: $0.element, parent: parents[$0.element]) }
    }

    /// Indices (into the renderer-major image list) of each split: per modality a seeded shuffle,
    /// 10% validation, 10% test, the rest training; the 10% subset takes the first tenth of each
    /// modality's shuffled training images (at least one).
    static func splits(modalities: [String], count: Int, seed: UInt64) -> (train: [Int], val: [Int], test: [Int], train10: [Int]) {
        var out: (train: [Int], val: [Int], test: [Int], train10: [Int]) = ([], [], [], [])
        let tenth = Int((Double(count) * 0.1).rounded())
        for (m, modality) in modalities.enumerated() {
            var order = Array(0..<count).map { m * count + $0 }
            RandomGenerator(seed: imageSeed(seed, modality + "/split", 0)).shuffle(&order)
            out.val += order.prefix(tenth)
            out.test += order.dropFirst(tenth).prefix(tenth)
            let train = Array(order.dropFirst(2 * tenth))
            out.train += train
            out.train10 += train.prefix(max(1, Int((Double(train.count) * 0.1).rounded())))
        }
        return out
    }

    /// A generator seed from (corpus seed, modality, index) through FNV-1a over the modality's bytes
    /// and SplitMix64 finalisers: stable across runs and machines, unlike Swift's `hashValue`.
    public static func imageSeed(_ seed: UInt64, _ modality: String, _ index: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in modality.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return mix(seed ^ mix(h ^ mix(UInt64(truncatingIfNeeded: index))))
    }

    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
