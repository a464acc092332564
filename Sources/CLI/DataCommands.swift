import ArgumentParser
import Datasets
import Foundation
import Synthetic

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Inspect datasets in their real formats, build grounding data from masks, simulate a full-size dataset.",
        subcommands: [Inspect.self, MasksToCOCO.self, Simulate.self])
}

/// `medglip data simulate --format mimic-cxr`: R2Gen's MIMIC-CXR layout at full size, for
/// measuring the data pipeline and training at scale without the credentialed data.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a stand-in dataset at full size: R2Gen's MIMIC-CXR layout, images linked to a pool of phantom X-rays.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case mimicCXR = "mimic-cxr" }

    @Option(help: "Layout to write: \(Format.allCases.map(\.rawValue).joined(separator: ", ")).") var format: Format
    @Option(help: "Training studies (R2Gen's MIMIC-CXR: 270790); val and test follow R2Gen's proportions.") var studies = 270_790
    @Option(help: "Phantom images the studies' links point at.") var pool = 300
    @Option(help: "Side of the phantom images in pixels.") var imageSize = 256
    @Option(help: "Random seed of the phantoms.") var seed: UInt64 = 0
    @Option(help: "Folder to write (must not hold an annotation.json).") var out: String

    func validate() throws {
        try Check.atLeast(studies, 1, "--studies")
        try Check.atLeast(pool, 1, "--pool")
        try Check.atLeast(imageSize, 64, "--image-size")
    }

    func run() throws {
        let start = Date()
        let dir = URL(fileURLWithPath: out)
        try MIMICStandIn.write(to: dir, trainStudies: studies, poolSize: pool, imageSize: imageSize, seed: seed) { print($0) }
        print(String(format: "wrote %@ (R2Gen's MIMIC-CXR layout) in %.0f s", dir.path, Date().timeIntervalSince(start)))
    }
}

extension DatasetFormat: ExpressibleByArgument {}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print counts per split, label and modality, and every problem found.")

    @Option(help: "Dataset format: \(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: DatasetFormat

    @Option(help: "Dataset folder, laid out as the format is distributed.")
    var dataDir: String

    @Option(help: "Problems of one kind shown before the rest are summarised.")
    var maxPerKind = 10

    func validate() throws { try Check.atLeast(maxPerKind, 1, "--max-per-kind") }

    func run() throws {
        let report = try Inspection.run(format: format, dataDir: URL(fileURLWithPath: dataDir))
        print(report.render(maxPerKind: maxPerKind))
        // Scripts can gate on the folder: any problem is a failure.
        if !report.problems.isEmpty { throw ExitCode.failure }
    }
}

struct MasksToCOCO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "masks-to-coco",
        abstract: "Build COCO grounding boxes from segmentation masks (Med-GLIP-5M's rules).",
        discussion: """
            For each image NAME.ext in --images, masks are read from --masks as either a label mask
            NAME.png (pixel value = label id, named by --labels) or a folder NAME/ of binary masks LABEL.png.
            """)

    @Option(help: "Folder of images.") var images: String
    @Option(help: "Folder of masks.") var masks: String
    @Option(help: "JSON object mapping label-mask pixel values to names, e.g. {\"1\": \"liver\"}.") var labels: String?
    @Option(help: "JSON object mapping raw label names to unified ones, e.g. {\"left kidney\": \"kidney\"}.") var synonyms: String?
    @Option(help: "JSON object mapping a label to its parent, e.g. {\"liver tumor\": \"liver\"}.") var hierarchy: String?
    @Option(help: "Imaging modality recorded on every image (e.g. CT, MRI, X-ray).") var modality: String?
    @Option(help: "One box per connected 'component' or per 'label'.") var per: String = "component"
    @Option(help: "Drop regions covering less than this fraction of the image.") var minArea: Double = 0.015
    @Option(help: "Output COCO JSON file.") var out: String

    func run() throws {
        var builder = MaskToGrounding()
        guard let grouping = MaskToGrounding.Grouping(rawValue: per) else { throw ValidationError("--per must be 'component' or 'label'") }
        guard (0..<1).contains(minArea) else { throw ValidationError("--min-area must be in [0, 1)") }
        builder.grouping = grouping
        builder.minAreaFraction = minArea
        builder.modality = modality
        if let labels {
            let map = try readStringMap(labels)
            builder.labelNames = try Dictionary(
                uniqueKeysWithValues: map.map { k, v in
                    guard let id = Int(k) else { throw ValidationError("\(labels): key '\(k)' is not an integer pixel value") }
                    return (id, v)
                })
        }
        if let synonyms {
            builder.synonyms = Dictionary(
                try readStringMap(synonyms).map { (builder.unify($0.key), $0.value.lowercased()) }, uniquingKeysWith: { a, _ in a })
        }
        if let hierarchy {
            builder.hierarchy = Dictionary(try readStringMap(hierarchy).map { (builder.unify($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        let imagesURL = URL(fileURLWithPath: images)
        let (split, missing) = try builder.build(imagesDir: imagesURL, masksDir: URL(fileURLWithPath: masks))
        try COCO.write(split, to: URL(fileURLWithPath: out), imagesRoot: imagesURL)
        let boxes = split.samples.reduce(0) { $0 + $1.regions.count }
        print("wrote \(out): \(split.samples.count) images, \(boxes) boxes, \(split.categories.count) categories")
        if !missing.isEmpty {
            print("\(missing.count) image(s) had no mask: \(missing.prefix(10).joined(separator: ", "))\(missing.count > 10 ? ", ..." : "")")
        }
    }

    private func readStringMap(_ path: String) throws -> [String: String] {
        let url = URL(fileURLWithPath: path)
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError(url, "no such file") }
        guard let map = try? JSONSerialization.jsonObject(with: data) as? [String: String] else {
            throw DatasetError(url, "must be a JSON object mapping strings to strings")
        }
        return map
    }
}
