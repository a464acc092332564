import Foundation
import Imaging

/// COCO detection / grounding JSON as distributed (`images`, `annotations` with `bbox` [x, y, w, h],
/// `categories` with optional `supercategory`), plus a per-image `modality` when present.
public struct COCOFile: Codable, Equatable {
    public struct Image: Codable, Equatable {
        public var id: Int
        public var file_name: String
        public var width: Int
        public var height: Int
        public var modality: String?
    }
    public struct Annotation: Codable, Equatable {
        public var id: Int
        public var image_id: Int
        public var category_id: Int
        public var bbox: [Double]
        public var area: Double?
        public var iscrowd: Int?
    }
    public struct Category: Codable, Equatable {
        public var id: Int
        public var name: String
        public var supercategory: String?
    }
    public var images: [Image]
    public var annotations: [Annotation]
    public var categories: [Category]
}

/// One detection in the COCO results format (`[{image_id, category_id, bbox, score}]`).
public struct COCODetection: Codable, Equatable {
    public var image_id: Int
    public var category_id: Int
    public var bbox: [Double]
    public var score: Double
    public init(imageID: Int, categoryID: Int, box: Box, score: Float) {
        image_id = imageID; category_id = categoryID; bbox = box.xywh.map(Double.init); self.score = Double(score)
    }
}

public enum COCO {
    /// Reads a COCO file; image paths resolve against `imagesRoot` (default: the file's folder).
    public static func read(_ url: URL, imagesRoot: URL? = nil) throws -> GroundingSplit {
        let file = try decodeJSON(COCOFile.self, from: url)
        let root = imagesRoot ?? url.deletingLastPathComponent()
        var names: [Int: String] = [:]
        for c in file.categories {
            guard names[c.id] == nil else { throw DatasetError(url, "category id \(c.id) appears twice") }
            names[c.id] = c.name
        }
        var byImage: [Int: [LabeledBox]] = [:]
        for (i, a) in file.annotations.enumerated() {
            guard a.bbox.count == 4, a.bbox.allSatisfy(\.isFinite) else {
                throw DatasetError(url, "annotations[\(i)] (id \(a.id)): bbox must be 4 finite numbers [x, y, w, h], got \(a.bbox)")
            }
            guard let name = names[a.category_id] else {
                throw DatasetError(url, "annotations[\(i)] (id \(a.id)): unknown category_id \(a.category_id)")
            }
            byImage[a.image_id, default: []].append(LabeledBox(label: name, box: Box(xywh: a.bbox.map(Float.init))))
        }
        let sizes = Dictionary(file.images.map { ($0.id, ($0.width, $0.height)) }, uniquingKeysWith: { a, _ in a })
        for a in file.annotations {
            guard let (w, h) = sizes[a.image_id] else {
                throw DatasetError(url, "annotation \(a.id) refers to image_id \(a.image_id), which is not in images")
            }
            try checkBox(Box(xywh: a.bbox.map(Float.init)), width: w, height: h, in: url, what: "annotation \(a.id)")
        }
        let samples = file.images.map {
            GroundingSample(
                imageID: $0.id, imageURL: root.appendingPathComponent($0.file_name), width: $0.width,
                height: $0.height, modality: $0.modality, regions: byImage[$0.id] ?? [])
        }
        let categories = file.categories.map { Category(id: $0.id, name: $0.name, parent: $0.supercategory) }
        return GroundingSplit(samples: samples, categories: categories)
    }

    /// The COCO ground-truth file for a split; image paths are written relative to `imagesRoot`.
    public static func file(for split: GroundingSplit, imagesRoot: URL) -> COCOFile {
        let ids = Dictionary(uniqueKeysWithValues: split.categories.map { ($0.name, $0.id) })
        var annotations: [COCOFile.Annotation] = []
        let images = split.samples.map { s -> COCOFile.Image in
            for r in s.regions {
                annotations.append(
                    .init(
                        id: annotations.count + 1, image_id: s.imageID, category_id: ids[r.label]!,
                        bbox: r.box.xywh.map(Double.init), area: Double(r.box.area), iscrowd: 0))
            }
            return .init(id: s.imageID, file_name: relativePath(s.imageURL, to: imagesRoot), width: s.width, height: s.height, modality: s.modality)
        }
        return COCOFile(
            images: images, annotations: annotations,
            categories: split.categories.map { .init(id: $0.id, name: $0.name, supercategory: $0.parent) })
    }

    public static func write(_ split: GroundingSplit, to url: URL, imagesRoot: URL? = nil) throws {
        try writeJSON(file(for: split, imagesRoot: imagesRoot ?? url.deletingLastPathComponent()), to: url)
    }

    public static func writeDetections(_ detections: [COCODetection], to url: URL) throws {
        try writeJSON(detections, to: url)
    }

    public static func readDetections(_ url: URL) throws -> [COCODetection] {
        try decodeJSON([COCODetection].self, from: url)
    }

    static func relativePath(_ url: URL, to root: URL) -> String {
        let r = root.standardizedFileURL.path, p = url.standardizedFileURL.path
        return p.hasPrefix(r + "/") ? String(p.dropFirst(r.count + 1)) : p
    }
}

/// Rejects empty boxes and boxes outside their image (1 px tolerance for rounding in the files).
func checkBox(_ box: Box, width: Int, height: Int, in url: URL, what: String) throws {
    guard box.isValid else { throw DatasetError(url, "\(what): empty or inverted box \(box.xywh)") }
    guard box.isInside(width: Float(width), height: Float(height)) else {
        throw DatasetError(url, "\(what): box \(box.xywh) lies outside the \(width)x\(height) image (medglip data inspect lists every such box)")
    }
}
