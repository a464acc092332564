import Datasets
import Foundation
import Grounding
import Imaging
import Injection
import Registry

/// A grounder's regions per image, computed once per (data folder, grounder weights) and kept in
/// the registry's grounding cache, because every downstream run on a dataset asks for the same ones.
public enum DetectionCache {
    /// The grounder's regions on `images` (keyed by `key`), from the cache when there, else detected
    /// now and stored. Images that cannot be read get no regions (the downstream loader reports them).
    public static func detections(
        _ grounder: Grounder, folder: URL, images: [(key: String, url: URL, modality: String)], what: String,
        dataDir: URL, registry: RunRegistry
    ) throws -> [String: [GroundedRegion]] {
        let weights = folder.appendingPathComponent("model.safetensors")
        let attributes = try FileManager.default.attributesOfItem(atPath: weights.path)
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let key = "\(weights.standardizedFileURL.path)#\(attributes[.size] ?? 0)#\(modified)"
        let datasetKey = dataDir.standardizedFileURL.path
        if let cached = try registry.groundingCache(dataset: datasetKey, grounder: key) {
            print("grounding: \(cached.count) images from the registry cache")
            return try cached.mapValues { try JSONDecoder().decode([GroundedRegion].self, from: $0) }
        }
        print("grounding: detecting on \(images.count) \(what) with \(folder.path) (cached for later runs)")
        var samples: [GroundingSample] = [], keys: [String] = []
        for (i, image) in images.enumerated() {
            guard let decoded = try? ImageIO.read(image.url) else { continue }
            samples.append(
                GroundingSample(
                    imageID: i, imageURL: image.url, width: decoded.width, height: decoded.height,
                    modality: image.modality, regions: []))
            keys.append(image.key)
        }
        let found = try grounder.detect(samples)
        let grounded = found.map { $0.map { GroundedRegion(phrase: $0.label, score: $0.score, box: $0.box) } }
        let regions = Dictionary(uniqueKeysWithValues: zip(keys, grounded))
        try registry.storeGrounding(try regions.mapValues { try JSONEncoder().encode($0) }, dataset: datasetKey, grounder: key)
        return regions
    }
}
