import ArgumentParser
import Datasets
import Foundation
import Grounding
import Injection
import Registry
import VQA

/// Grounded regions of a VQA dataset's images, keyed by image path: SLAKE's `detection.json`
/// boxes (the oracle) or a grounder's detections, each image prompted with its own modality.
enum VQAGrounding {
    static func regions(source: String, items: [VQAItem], dataDir: URL, registry: RunRegistry) throws -> (regions: [String: [GroundedRegion]], phrases: [String]) {
        var seen = Set<String>(), images: [VQAItem] = []
        for item in items where seen.insert(item.imageURL.standardizedFileURL.path).inserted { images.append(item) }
        if source == "oracle" {
            var regions: [String: [GroundedRegion]] = [:]
            for item in images {
                let side = item.imageURL.deletingLastPathComponent().appendingPathComponent("detection.json")
                guard FileManager.default.fileExists(atPath: side.path) else {
                    throw ValidationError("--grounding-source oracle needs SLAKE's detection.json beside every image, and \(side.path) is missing (VQA-RAD has no boxes: use --grounding-source grounder)")
                }
                regions[item.imageURL.standardizedFileURL.path] = try SLAKE.detections(imageURL: item.imageURL).map {
                    GroundedRegion(phrase: $0.label, score: 1, box: [$0.box.x1, $0.box.y1, $0.box.x2, $0.box.y2])
                }
            }
            return (regions, Set(regions.values.flatMap { $0.map(\.phrase) }).sorted())
        }
        let folder = URL(fileURLWithPath: source)
        let grounder = try Grounder(runFolder: folder)
        let known = Dictionary(grounder.run.prompts.keys.map { ($0.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        var targets: [(key: String, url: URL, modality: String)] = [], unknown: [String: Int] = [:]
        for item in images {
            guard let modality = item.groundingModality.flatMap({ known[$0.lowercased()] }) else {
                unknown[item.groundingModality ?? item.organ ?? "unrecorded", default: 0] += 1
                continue
            }
            targets.append((item.imageURL.standardizedFileURL.path, item.imageURL, modality))
        }
        if !unknown.isEmpty {
            print("grounding: \(unknown.values.reduce(0, +)) images get no regions: the grounder (\(known.values.sorted().joined(separator: ", "))) has no expert for "
                  + unknown.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", "))
        }
        guard !targets.isEmpty else { throw ValidationError("\(folder.path): the grounder knows none of this dataset's modalities") }
        let phrases = Set(targets.flatMap { grounder.run.prompts[$0.modality] ?? [] }).sorted()
        return (try GroundingInjectionOptions.cachedDetections(grounder, folder: folder, images: targets, what: "images", dataDir: dataDir, registry: registry), phrases)
    }

    /// Gives the loader a run's regions (recomputed from its recorded source, or the cache) and the
    /// hint templates.
    static func inject(_ loader: inout VQALoader, run: VQARunConfig, items: [VQAItem], dataDir: URL, registry: RunRegistry,
                       regions: [String: [GroundedRegion]]? = nil) throws {
        loader.regions = try regions ?? Self.regions(source: run.model.injection.source, items: items, dataDir: dataDir, registry: registry).regions
        loader.hints = try ModalityHints.load()
    }
}
