import Foundation
import Imaging

/// Builds grounding boxes from segmentation masks, as the Med-GLIP-5M pipeline did: one box per
/// connected component (or per label), small regions dropped, label names unified through a
/// synonym map, a parent attached from a hierarchy, and the modality recorded.
///
/// Mask layout, per image `NAME.ext` in the images folder, either
/// - a label mask `masks/NAME.png` whose pixel values are label ids (named by `labelNames`), or
/// - a folder `masks/NAME/` of binary masks `LABEL.png` (nonzero = inside).
public struct MaskToGrounding {
    public enum Grouping: String, Sendable { case component, label }

    public var labelNames: [Int: String] = [:]
    public var synonyms: [String: String] = [:]
    /// Child label -> parent label (organ -> sub-structure / lesion); becomes the COCO supercategory.
    public var hierarchy: [String: String] = [:]
    public var modality: String?
    public var grouping: Grouping = .component
    /// Regions covering less than this fraction of the image are dropped (the paper's 1.5%).
    public var minAreaFraction: Double = 0.015

    public init() {}

    /// The unified name of a raw label: lower-cased, trimmed, then mapped through the synonyms.
    public func unify(_ raw: String) -> String {
        let key = raw.trimmingCharacters(in: .whitespaces).lowercased()
        return synonyms[key] ?? key
    }

    /// Reads every image with a mask and returns the grounding split; images without masks are listed.
    public func build(imagesDir: URL, masksDir: URL) throws -> (split: GroundingSplit, withoutMask: [String]) {
        let fm = FileManager.default
        guard let files = try? fm.contentsOfDirectory(atPath: imagesDir.path) else { throw DatasetError(imagesDir, "no such folder") }
        let images = files.filter { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        var samples: [GroundingSample] = [], missing: [String] = []
        for (i, file) in images.enumerated() {
            let stem = (file as NSString).deletingPathExtension
            let labelMask = masksDir.appendingPathComponent("\(stem).png"), folder = masksDir.appendingPathComponent(stem)
            var isDir: ObjCBool = false
            var regions: [LabeledBox], size: (Int, Int)
            if fm.fileExists(atPath: labelMask.path) {
                (regions, size) = try regionsFromLabelMask(labelMask)
            } else if fm.fileExists(atPath: folder.path, isDirectory: &isDir), isDir.boolValue {
                (regions, size) = try regionsFromBinaryMasks(folder)
            } else {
                missing.append(file); continue
            }
            samples.append(
                GroundingSample(
                    imageID: i + 1, imageURL: imagesDir.appendingPathComponent(file), width: size.0,
                    height: size.1, modality: modality, regions: regions))
        }
        let names = Set(samples.flatMap { $0.regions.map(\.label) }).union(hierarchy.values.map(unify))
        let categories = names.sorted().enumerated().map { Category(id: $0.offset + 1, name: $0.element, parent: hierarchy[$0.element].map(unify)) }
        return (GroundingSplit(samples: samples, categories: categories), missing)
    }

    func regionsFromLabelMask(_ url: URL) throws -> ([LabeledBox], (Int, Int)) {
        let (w, h, labels) = try ImageIO.readLabelMask(url)
        var out: [LabeledBox] = []
        for value in Set(labels).subtracting([0]).sorted() {
            guard let raw = labelNames[value] else {
                throw DatasetError(url, "pixel value \(value) has no name in the label map (known: \(labelNames.keys.sorted()))")
            }
            out += boxes(labels.map { $0 == value }, w, h, label: unify(raw))
        }
        return (out, (w, h))
    }

    func regionsFromBinaryMasks(_ folder: URL) throws -> ([LabeledBox], (Int, Int)) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.filter { $0.lowercased().hasSuffix(".png") }.sorted() ?? []
        guard !files.isEmpty else { throw DatasetError(folder, "mask folder holds no PNG masks") }
        var out: [LabeledBox] = [], size: (Int, Int)?
        for file in files {
            let url = folder.appendingPathComponent(file)
            let (w, h, labels) = try ImageIO.readLabelMask(url)
            if let s = size, s != (w, h) { throw DatasetError(url, "mask is \(w)x\(h) but other masks of this image are \(s.0)x\(s.1)") }
            size = (w, h)
            out += boxes(labels.map { $0 != 0 }, w, h, label: unify((file as NSString).deletingPathExtension))
        }
        return (out, size!)
    }

    /// Boxes of one label's pixels: per 8-connected component, or one box around all of them.
    public func boxes(_ inside: [Bool], _ w: Int, _ h: Int, label: String) -> [LabeledBox] {
        let minPixels = Int((minAreaFraction * Double(w * h)).rounded(.up))
        var regions: [(count: Int, box: Box)] = []
        if grouping == .label {
            var n = 0, box = Box(x1: .infinity, y1: .infinity, x2: -.infinity, y2: -.infinity)
            for i in 0..<(w * h) where inside[i] { n += 1; box = extend(box, i % w, i / w) }
            if n > 0 { regions.append((n, box)) }
        } else {
            for pixels in connectedComponents(inside, width: w, height: h) {
                regions.append(
                    (pixels.count, pixels.reduce(Box(x1: .infinity, y1: .infinity, x2: -.infinity, y2: -.infinity)) { extend($0, $1 % w, $1 / w) }))
            }
        }
        return regions.filter { $0.count >= minPixels }.map { LabeledBox(label: label, box: $0.box) }
    }

    private func extend(_ b: Box, _ x: Int, _ y: Int) -> Box {
        Box(x1: min(b.x1, Float(x)), y1: min(b.y1, Float(y)), x2: max(b.x2, Float(x + 1)), y2: max(b.y2, Float(y + 1)))
    }
}
