import Datasets
import Foundation
import Grounding
import Injection
import Registry
import VQA

/// Grounded regions of a VQA dataset's images, keyed by image path: SLAKE's `detection.json`
/// boxes (the oracle) or the detections of one or more grounders (`GrounderSet`), each image prompted
/// with its own modality.
public enum VQARegions {
    public static func regions(source: String, items: [VQAItem], dataDir: URL, registry: RunRegistry) throws -> (
        regions: [String: [GroundedRegion]], phrases: [String]
    ) {
        var seen = Set<String>(), images: [VQAItem] = []
        for item in items where seen.insert(item.imageURL.standardizedFileURL.path).inserted { images.append(item) }
        if source == "oracle" {
            let regions = try annotatedBoxes(images, option: "--grounding-source oracle", alternative: "use --grounding-source grounder")
            return (regions, Set(regions.values.flatMap { $0.map(\.phrase) }).sorted())
        }
        let experts = try GrounderSet(source: source)
        var served: [String: Int] = [:], unknown: [String: Int] = [:]
        for item in images {
            guard let expert = item.groundingModality.flatMap(experts.expert(for:)) else {
                unknown[item.groundingModality ?? item.organ ?? "unrecorded", default: 0] += 1
                continue
            }
            served[item.imageURL.standardizedFileURL.path] = expert.run
        }
        if !unknown.isEmpty {
            print(
                "grounding: \(unknown.values.reduce(0, +)) images get no regions: the grounder "
                    + "(\(experts.modalities.joined(separator: ", "))) has no expert for "
                    + unknown.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", "))
        }
        guard !served.isEmpty else { throw PipelineError("\(source): the grounder knows none of this dataset's modalities") }
        var regions: [String: [GroundedRegion]] = [:], phrases = Set<String>()
        for (i, run) in experts.runs.enumerated() {
            // Each run detects on every image it knows, whoever serves it, so that its cache entry
            // is the same whether it is used alone or with others.
            let targets = images.compactMap { item in
                item.groundingModality.flatMap { experts.name(of: $0, inRun: i) }.map {
                    (key: item.imageURL.standardizedFileURL.path, url: item.imageURL, modality: $0)
                }
            }
            let servedHere = targets.filter { served[$0.key] == i }
            guard !servedHere.isEmpty else { continue }
            phrases.formUnion(Set(servedHere.map(\.modality)).flatMap { run.grounder.run.prompts[$0] ?? [] })
            let found = try DetectionCache.detections(
                run.grounder, folder: run.folder, images: targets, what: "images", dataDir: dataDir, registry: registry)
            regions.merge(found.filter { served[$0.key] == i }) { a, _ in a }
        }
        return (regions, phrases.sorted())
    }

    /// SLAKE's `detection.json` boxes (pixels, score 1) of every image of `items`, by image path;
    /// `option` needs them, and the error names it and what to do instead.
    public static func annotatedBoxes(_ items: [VQAItem], option: String, alternative: String) throws -> [String: [GroundedRegion]] {
        var regions: [String: [GroundedRegion]] = [:]
        for item in items where regions[item.imageURL.standardizedFileURL.path] == nil {
            let side = item.imageURL.deletingLastPathComponent().appendingPathComponent("detection.json")
            guard FileManager.default.fileExists(atPath: side.path) else {
                throw PipelineError(
                    "\(option) needs SLAKE's detection.json beside every image, and \(side.path) is missing (VQA-RAD has no boxes: \(alternative))")
            }
            regions[item.imageURL.standardizedFileURL.path] = try SLAKE.detections(imageURL: item.imageURL).map {
                GroundedRegion(phrase: $0.label, score: 1, box: $0.box)
            }
        }
        return regions
    }

    /// Gives the loader a run's regions (recomputed from its recorded source, or the cache) and the
    /// hint templates.
    public static func inject(
        _ loader: inout VQALoader, run: VQARunConfig, items: [VQAItem], dataDir: URL, registry: RunRegistry,
        regions: [String: [GroundedRegion]]? = nil
    ) throws {
        loader.regions = try regions ?? Self.regions(source: run.model.injection.source, items: items, dataDir: dataDir, registry: registry).regions
        loader.hints = try ModalityHints.load()
    }
}
