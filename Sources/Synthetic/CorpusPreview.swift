import Datasets
import Foundation
import Imaging

/// Pictures of a generated corpus for people: each sample with its boxes, captioned.
public enum CorpusPreview {
    /// One annotated tile per sample (for CXR: frontal and lateral side by side, report below).
    public static func tiles(kind: CorpusKind, dir: URL, limit: Int) throws -> [Image] {
        switch kind {
        case .cxrReports:
            let ds = try R2Gen.read(dir.appendingPathComponent("annotation.json"))
            let labels = try decodeJSON([String: CXRStudyRecord].self, from: dir.appendingPathComponent("labels.json"))
            return try (ds.train + ds.val + ds.test).prefix(limit).map { study in
                let views = try zip(ds.imageURLs(study), ["frontal", "lateral"]).map { url, view in
                    try ImageIO.read(url).drawing(
                        (labels[study.id]?.boxes[view] ?? []).map {
                            Annotation(box: Box(xywh: $0.bbox), label: $0.label)
                        })
                }
                return captioned(sideBySide(views), study.report)
            }
        case .slake:
            return try SlakePreview.tiles(dir: dir, limit: limit)
        case .grounding:
            let split = try COCO.read(dir.appendingPathComponent("train.json"))
            return try split.samples.prefix(limit).map { s in
                try ImageIO.read(s.imageURL).drawing(s.regions.map { Annotation(box: $0.box, label: $0.label) })
            }
        }
    }

    static func sideBySide(_ images: [Image]) -> Image {
        let h = images.map(\.height).max() ?? 1, w = images.reduce(0) { $0 + $1.width }
        var out = Image(width: w, height: h, channels: 3)
        var x0 = 0
        for img in images.map({ $0.rgb() }) {
            for c in 0..<3 { for y in 0..<img.height { for x in 0..<img.width { out[c, y, x0 + x] = img[c, y, x] } } }
            x0 += img.width
        }
        return out
    }

    /// Wraps `text` under the image in the built-in font.
    static func captioned(_ image: Image, _ text: String) -> Image {
        let perLine = max(8, image.width / 6 - 1)
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > perLine { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        var out = Image(width: image.width, height: image.height + 10 * lines.count + 4, channels: 3)
        let rgb = image.rgb()
        for c in 0..<3 { for y in 0..<image.height { for x in 0..<image.width { out[c, y, x] = rgb[c, y, x] } } }
        for (i, l) in lines.enumerated() { out.drawText(l, x: 2, y: image.height + 3 + 10 * i, color: (1, 1, 1)) }
        return out
    }

    /// Tiles in rows of up to four.
    public static func grid(_ tiles: [Image], columns: Int = 4) -> Image {
        guard !tiles.isEmpty else { return Image(width: 1, height: 1, channels: 3) }
        let w = tiles.map(\.width).max()!, h = tiles.map(\.height).max()!
        let cols = min(columns, tiles.count), rows = (tiles.count + cols - 1) / cols
        var out = Image(width: cols * (w + 4), height: rows * (h + 4), channels: 3, fill: 0.15)
        for (k, t) in tiles.enumerated() {
            let (ox, oy) = ((k % cols) * (w + 4), (k / cols) * (h + 4))
            let rgb = t.rgb()
            for c in 0..<3 { for y in 0..<t.height { for x in 0..<t.width { out[c, oy + y, ox + x] = rgb[c, y, x] } } }
        }
        return out
    }
}
