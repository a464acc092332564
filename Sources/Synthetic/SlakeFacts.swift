import Datasets
import Foundation
import Imaging

/// One connected piece of a structure's mask, measured on the rendered image.
struct SlakeComponent: Sendable {
    var pixels: [Int]
    var box: Box
    var meanIntensity: Float
    /// Axis ratio of the ellipse with the same second moments (1 for a disc).
    var elongation: Float
    /// Pixel area over that ellipse's area: about 1 for an ellipse, lower for notched or crescent shapes.
    var fill: Float
    /// The organ this piece overlaps most (findings only), nil when it overlaps none.
    var host: String?
}

/// A labelled structure of one image: its spec entry, merged mask and the components that got a box.
struct SlakeStructure: Sendable {
    var label: String
    var spec: SlakeSpec.Structure
    var inside: [Bool]
    var components: [SlakeComponent]
    var area: Int { components.reduce(0) { $0 + $1.pixels.count } }
    var isFinding: Bool { spec.kind == .finding || spec.kind == .device }
}

/// Everything a question may ask about one image, measured from its own regions: the structures
/// with boxes, the body frame (midline, vertical thirds) and measured findings.
struct SlakeImageFacts: Sendable {
    var modality: String
    var width: Int, height: Int
    var structures: [SlakeStructure]
    /// Union box of the modality's frame structures (body outline, brain, both lungs).
    var frame: Box
    /// Heart width over the lungs' outer width (chest X-ray only).
    var cardiothoracicRatio: Float?
    var derivedFindings: [String]

    func structure(_ label: String) -> SlakeStructure? { structures.first { $0.label == label } }
    var findings: [SlakeStructure] { structures.filter(\.isFinding) }

    /// The patient's side of a point: radiological convention puts the patient's right on the
    /// image's left. Nil within `margin` (fraction of the frame width) of the midline.
    func side(x: Float, margin: Float) -> String? {
        let mid = frame.center.x, m = margin * frame.width
        return x < mid - m ? "right" : (x > mid + m ? "left" : nil)
    }

    /// The sides a structure's pieces lie on (empty when all sit on the midline).
    /// Positions use box centres, not centroids, so that they can be checked from detection.json.
    func sides(_ s: SlakeStructure, margin: Float) -> Set<String> { Set(s.components.compactMap { side(x: $0.box.center.x, margin: margin) }) }

    /// Vertical third (0 top ... 2 bottom) of the frame at height y.
    func zone(y: Float) -> Int { max(0, min(2, Int(3 * (y - frame.y1) / max(frame.height, 1)))) }

    /// The organ all of a structure's pieces sit in, if they agree.
    func host(_ s: SlakeStructure) -> String? {
        let hosts = Set(s.components.map(\.host))
        guard hosts.count == 1, let h = hosts.first else { return nil }
        return h
    }

    /// Mean intensity of an organ's pixels outside every finding (what a finding is compared with).
    func backgroundIntensity(_ organ: SlakeStructure, image: [Float]) -> Float? {
        var sum: Float = 0, n = 0
        let lesions = findings.map(\.inside)
        for i in organ.inside.indices where organ.inside[i] && !lesions.contains(where: { $0[i] }) { sum += image[i]; n += 1 }
        return n > 0 ? sum / Float(n) : nil
    }
}

/// Turns a phantom's region masks into measured structures and the label mask SLAKE ships.
enum SlakeMeasure {
    /// Structures in the renderer's order, merged by label, split into components (those under the
    /// minimum area dropped), painted into the label mask in order (later regions cover earlier
    /// ones, as lesions cover their organ) and kept only where something of them stays visible, so
    /// that mask.png and detection.json always agree.
    static func measure(_ phantom: Phantom, spec: SlakeSpec) throws -> (facts: SlakeImageFacts, labelMask: [UInt8], gray: [Float]) {
        let (w, h) = (phantom.image.width, phantom.image.height)
        let gray = phantom.image.grayscale().pixels
        var structures = try merged(phantom.regions, spec: spec, count: w * h)
        let minPixels = max(1, Int((spec.thresholds.min_area_fraction * Double(w * h)).rounded(.up)))
        for k in structures.indices {
            structures[k].components = components(structures[k].inside, w, h, gray: gray).filter { $0.pixels.count >= minPixels }
        }
        var labelMask = [UInt8](repeating: 0, count: w * h)
        for s in structures { for c in s.components { for p in c.pixels { labelMask[p] = UInt8(s.spec.id) } } }
        for k in structures.indices {
            let id = UInt8(structures[k].spec.id)
            structures[k].components.removeAll { c in !c.pixels.contains { labelMask[$0] == id } }
        }
        structures.removeAll { $0.components.isEmpty }
        assignHosts(&structures)
        let m = spec.modalities[phantom.modality]!
        let frameBoxes = structures.filter { m.frame.contains($0.label) }.flatMap { $0.components.map(\.box) }
        let frame = frameBoxes.reduce(nil as Box?) { acc, b in acc.map { union($0, b) } ?? b } ?? Box(x1: 0, y1: 0, x2: Float(w), y2: Float(h))
        var facts = SlakeImageFacts(
            modality: phantom.modality, width: w, height: h, structures: structures, frame: frame,
            cardiothoracicRatio: nil, derivedFindings: [])
        measureHeart(&facts, spec: spec)
        return (facts, labelMask, gray)
    }

    /// Region masks merged by label (two kidneys, several lesions); unknown labels are an error so
    /// that a renderer's new region is noticed here rather than silently dropped.
    static func merged(_ regions: [RegionMask], spec: SlakeSpec, count: Int) throws -> [SlakeStructure] {
        var out: [SlakeStructure] = []
        for r in regions where !spec.ignored_labels.contains(r.label) {
            guard let s = spec.structures[r.label] else { throw DatasetError(SlakeSpec.file, "no structure entry for region label '\(r.label)'") }
            if let k = out.firstIndex(where: { $0.label == r.label }) {
                for i in 0..<count where r.inside[i] { out[k].inside[i] = true }
            } else {
                out.append(SlakeStructure(label: r.label, spec: s, inside: r.inside, components: []))
            }
        }
        return out
    }

    /// The cardiothoracic ratio from the heart box and the lungs' outer edges; above the threshold
    /// the heart counts as enlarged (cardiomegaly).
    static func measureHeart(_ facts: inout SlakeImageFacts, spec: SlakeSpec) {
        guard let heart = facts.structure("heart")?.components.first, facts.structure("right lung") != nil,
            facts.structure("left lung") != nil, facts.frame.width > 0
        else { return }
        let ratio = heart.box.width / facts.frame.width
        facts.cardiothoracicRatio = ratio
        if ratio > spec.thresholds.cardiothoracic_ratio { facts.derivedFindings = ["cardiomegaly"] }
    }

    /// Each finding piece's host: the organ (not a body outline) covering most of its pixels.
    static func assignHosts(_ structures: inout [SlakeStructure]) {
        let organs = structures.filter { $0.spec.kind == .organ }
        for k in structures.indices where structures[k].isFinding {
            for c in structures[k].components.indices {
                let pixels = structures[k].components[c].pixels
                let best = organs.map { o in (o.label, pixels.reduce(0) { $0 + (o.inside[$1] ? 1 : 0) }) }.max { $0.1 < $1.1 }
                structures[k].components[c].host = (best?.1 ?? 0) > 0 ? best?.0 : nil
            }
        }
    }

    /// 8-connected components with their box, centroid, mean intensity and moment shape.
    static func components(_ inside: [Bool], _ w: Int, _ h: Int, gray: [Float]) -> [SlakeComponent] {
        connectedComponents(inside, width: w, height: h).map { describe($0, w, gray: gray) }
    }

    static func describe(_ pixels: [Int], _ w: Int, gray: [Float]) -> SlakeComponent {
        var (x1, y1, x2, y2) = (Int.max, Int.max, Int.min, Int.min)
        var sx: Double = 0, sy: Double = 0, sxx: Double = 0, syy: Double = 0, sxy: Double = 0, si: Float = 0
        for p in pixels {
            let (x, y) = (p % w, p / w)
            x1 = min(x1, x); y1 = min(y1, y); x2 = max(x2, x); y2 = max(y2, y)
            let (fx, fy) = (Double(x) + 0.5, Double(y) + 0.5)
            sx += fx; sy += fy; sxx += fx * fx; syy += fy * fy; sxy += fx * fy; si += gray[p]
        }
        let n = Double(pixels.count), (cx, cy) = (sx / n, sy / n)
        // Each pixel is a unit square, not a point: add its own variance (1/12) per axis.
        let (a, b, c) = (sxx / n - cx * cx + 1.0 / 12, syy / n - cy * cy + 1.0 / 12, sxy / n - cx * cy)
        let root = ((a - b) * (a - b) / 4 + c * c).squareRoot()
        let (l1, l2) = ((a + b) / 2 + root, max((a + b) / 2 - root, 1e-9))
        return SlakeComponent(
            pixels: pixels, box: Box(x1: Float(x1), y1: Float(y1), x2: Float(x2 + 1), y2: Float(y2 + 1)),
            meanIntensity: si / Float(n), elongation: Float((l1 / l2).squareRoot()),
            fill: Float(n / (4 * Double.pi * (l1 * l2).squareRoot())), host: nil)
    }

    static func union(_ a: Box, _ b: Box) -> Box { Box(x1: min(a.x1, b.x1), y1: min(a.y1, b.y1), x2: max(a.x2, b.x2), y2: max(a.y2, b.y2)) }
}
