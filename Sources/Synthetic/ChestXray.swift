import Foundation
import Imaging
import Tensor

/// Patient-specific anatomy of a chest phantom, in fractions of the image size. Radiographic
/// convention: the patient's right lung is on the image's left.
struct ChestAnatomy: Sendable {
    var cx: Float, lungY: Float, lungSep: Float, lungRX: Float, lungRY: Float
    var bodyRX: Float, bodyRY: Float, heartRX: Float, heartRY: Float
    var exposure: Float, noise: Float

    init(rng: RandomGenerator) {
        cx = 0.5 + 0.015 * rng.normal(); lungY = rng.uniform(0.42, 0.47); lungSep = rng.uniform(0.16, 0.19)
        lungRX = rng.uniform(0.12, 0.145); lungRY = rng.uniform(0.25, 0.29)
        bodyRX = rng.uniform(0.40, 0.46); bodyRY = rng.uniform(0.47, 0.53)
        heartRX = rng.uniform(0.13, 0.15); heartRY = rng.uniform(0.1, 0.12)
        exposure = rng.uniform(0.85, 1.15); noise = rng.uniform(0.012, 0.03)
    }

    /// Centre x of the lung on a side ("right" = image left).
    func lungX(_ side: String) -> Float { side == "right" ? cx - lungSep : cx + lungSep }

    /// Vertical band of a lung zone, as (top, bottom) fractions.
    func zoneBand(_ zone: String) -> (Float, Float) {
        let top = lungY - lungRY, h = 2 * lungRY
        switch zone {
        case "upper": return (top + 0.12 * h, top + 0.38 * h)
        case "middle": return (top + 0.38 * h, top + 0.62 * h)
        case "lower": return (top + 0.62 * h, top + 0.85 * h)
        case "apex": return (top, top + 0.2 * h)
        default: return (top + 0.75 * h, top + h)
        }
    }
}

/// Renders frontal and lateral chest radiograph phantoms with findings, and the masks of both.
public struct ChestXrayRenderer: PhantomRenderer {
    public let modality = "X-ray"
    /// Label -> parent, from the X-ray entry of `Corpora/grounding/modalities.json`.
    public let hierarchy: [String: String]
    let spec: ChestFindingsFile

    public init() throws {
        spec = try CorpusSpecs.load(ChestFindingsFile.self, "cxr/findings.json")
        hierarchy = try GroundingSpec.load()["X-ray"]?.hierarchy ?? [:]
    }

    /// Grounding-corpus use: a frontal view with anatomy and finding regions.
    public func render(size: Int, rng: RandomGenerator) -> Phantom {
        let anatomy = ChestAnatomy(rng: rng)
        let findings = spec.sample(rng: rng)
        let (image, regions) = frontal(size: size, anatomy: anatomy, findings: findings, rng: rng, anatomyRegions: true)
        return Phantom(image: image, regions: regions, modality: modality)
    }

    /// Grounding label of a finding kind.
    static func label(_ kind: String) -> String {
        ["effusion": "pleural effusion", "device": "pacemaker", "mediastinum": "widened mediastinum"][kind] ?? kind
    }

    // MARK: frontal view

    func frontal(
        size: Int, anatomy a: ChestAnatomy, findings: [ChestFinding], rng: RandomGenerator,
        anatomyRegions: Bool
    ) -> (Image, [RegionMask]) {
        let s = Float(size)
        var img = Image(width: size, height: size, channels: 1, fill: 0.04)
        var regions: [RegionMask] = []
        let scale = findings.first { $0.kind == "cardiomegaly" }?.extent ?? 1
        let widen = findings.first { $0.kind == "mediastinum" }?.extent ?? 1
        // The trunk runs off the bottom of the film; shoulders square it off at the top.
        let body = img.ellipseCoverage(cx: a.cx * s, cy: 0.66 * s, rx: a.bodyRX * s, ry: (a.bodyRY + 0.12) * s)
        img.paint(img.ellipseCoverage(cx: a.cx * s, cy: 0.3 * s, rx: (a.bodyRX + 0.04) * s, ry: 0.2 * s), [0.42])
        img.paint(body, [0.42])
        // Neck and shoulders.
        img.paint(img.ellipseCoverage(cx: a.cx * s, cy: 0.08 * s, rx: 0.09 * s, ry: 0.12 * s), [0.42])
        var lungs: [String: [Float]] = [:]
        for side in ["right", "left"] {
            let lung = img.ellipseCoverage(
                cx: a.lungX(side) * s, cy: a.lungY * s, rx: a.lungRX * s, ry: a.lungRY * s,
                angle: side == "right" ? 0.06 : -0.06)
            lungs[side] = lung
            img.paint(lung, [0.1])
            if anatomyRegions { regions.append(RegionMask(label: "\(side) lung", inside: mask(lung))) }
        }
        // Mediastinum: a central band, wider at the top when the finding says so.
        let mediastinum = img.ellipseCoverage(cx: a.cx * s, cy: 0.36 * s, rx: 0.05 * widen * s, ry: 0.2 * s)
        img.paint(mediastinum, [0.5])
        if widen > 1 { regions.append(RegionMask(label: "widened mediastinum", inside: mask(mediastinum))) }
        let heart = img.ellipseCoverage(
            cx: (a.cx + 0.05) * s, cy: (a.lungY + 0.14) * s, rx: a.heartRX * scale * s, ry: a.heartRY * min(scale, 1.25) * s)
        img.paint(heart, [0.56])
        if anatomyRegions { regions.append(RegionMask(label: "heart", inside: mask(heart))) }
        if scale > 1 { regions.append(RegionMask(label: "cardiomegaly", inside: mask(heart))) }
        // Spine, ribs, clavicles: bone adds density over whatever lies beneath.
        img.add(img.polylineCoverage([(a.cx * s, 0), (a.cx * s, s)], thickness: 0.05 * s), [0.12])
        let fracture = findings.first { $0.kind == "fracture" }
        for side in ["right", "left"] {
            let dir: Float = side == "right" ? -1 : 1
            for r in 0..<9 {
                let y0 = (a.lungY - a.lungRY + 0.02 + Float(r) * 0.058) * s
                var pts: [(Float, Float)] = (0...6).map { k in
                    let t = Float(k) / 6
                    return ((a.cx + dir * (0.03 + t * (a.lungSep + a.lungRX + 0.02))) * s, y0 + (0.05 * t - 0.07 * t * t + 0.09 * t * t * t) * s)
                }
                if let f = fracture, f.side == side, r == ribIndex(f, a) {
                    // A displaced break: the lateral half is shifted down.
                    for k in 4...6 { pts[k].1 += 0.012 * s }
                    img.add(img.polylineCoverage(Array(pts[0...3]), thickness: 0.012 * s), [0.1])
                    img.add(img.polylineCoverage(Array(pts[4...6]), thickness: 0.012 * s), [0.1])
                    let (bx, by) = (pts[3].0 + 0.5 * (pts[4].0 - pts[3].0), pts[3].1 + 0.006 * s)
                    regions.append(
                        RegionMask(label: "fracture", inside: mask(img.ellipseCoverage(cx: bx, cy: by, rx: f.extent * s, ry: f.extent * s))))
                } else {
                    img.add(img.polylineCoverage(pts, thickness: 0.012 * s), [0.1])
                }
            }
            img.add(img.polylineCoverage([((a.cx + dir * 0.03) * s, 0.17 * s), ((a.cx + dir * 0.3) * s, 0.12 * s)], thickness: 0.02 * s), [0.14])
        }
        for f in findings { drawFrontal(f, &img, &regions, a, lungs, s, rng) }
        finish(&img, a, rng)
        return (img, regions)
    }

    func ribIndex(_ f: ChestFinding, _ a: ChestAnatomy) -> Int {
        let (top, bottom) = a.zoneBand(f.zone)
        let y = top + f.along * (bottom - top)
        return max(0, min(8, Int((y - (a.lungY - a.lungRY + 0.02)) / 0.058)))
    }

    func sides(_ f: ChestFinding) -> [String] { f.side == "bilateral" ? ["right", "left"] : [f.side] }

    /// Point inside a lung zone for a focal finding.
    func focus(_ f: ChestFinding, side: String, _ a: ChestAnatomy) -> (Float, Float) {
        let (top, bottom) = a.zoneBand(f.zone)
        return (a.lungX(side) + (f.across - 0.5) * 1.1 * a.lungRX, top + f.along * (bottom - top))
    }

    func drawFrontal(
        _ f: ChestFinding, _ img: inout Image, _ regions: inout [RegionMask], _ a: ChestAnatomy,
        _ lungs: [String: [Float]], _ s: Float, _ rng: RandomGenerator
    ) {
        let label = Self.label(f.kind)
        for side in sides(f) {
            // Cardiomegaly, a widened mediastinum and fractures change the anatomy drawn above.
            guard let lung = lungs[side], !["cardiomegaly", "mediastinum", "fracture"].contains(f.kind) else { continue }
            switch f.kind {
            case "nodule", "mass":
                let (x, y) = focus(f, side: side, a)
                let disc = img.ellipseCoverage(cx: x * s, cy: y * s, rx: f.extent * s, ry: f.extent * 0.9 * s, angle: rng.uniform(0, 3))
                img.add(disc, [0.3])
                regions.append(RegionMask(label: label, inside: mask(disc)))
            case "consolidation", "opacity":
                let (x, y) = focus(f, side: side, a)
                var patch = img.ellipseCoverage(cx: x * s, cy: y * s, rx: f.extent * s, ry: f.extent * 0.8 * s, angle: rng.uniform(0, 3))
                patch = zip(patch, lung).map { min($0, $1) }
                if f.kind == "consolidation" { img.paint(patch, [0.45], opacity: 0.85) } else { img.add(patch, [0.14]) }
                regions.append(RegionMask(label: label, inside: mask(patch)))
            case "effusion":
                // Fluid fills the lung base up to a meniscus that rises laterally.
                let bottom = (a.lungY + a.lungRY) * s, level = bottom - f.extent * 2 * a.lungRY * s
                let lx = a.lungX(side) * s, dir: Float = side == "right" ? -1 : 1
                var fluid = [Float](repeating: 0, count: img.width * img.height)
                for y in 0..<img.height {
                    for x in 0..<img.width {
                        let i = y * img.width + x
                        guard lung[i] > 0 else { continue }
                        let lateral = max(0, dir * (Float(x) - lx)) / (a.lungRX * s)
                        let boundary = level - 0.05 * s * lateral * lateral
                        fluid[i] = lung[i] * min(1, max(0, Float(y) - boundary + 0.5))
                    }
                }
                img.paint(fluid, [0.5])
                regions.append(RegionMask(label: label, inside: mask(fluid)))
            case "pneumothorax":
                // The collapsed lung edge (a thin pleural line) with lucent, markingless space outside it.
                let lx = a.lungX(side), dir: Float = side == "right" ? -1 : 1
                let collapsed = img.ellipseCoverage(
                    cx: (lx - dir * f.extent) * s, cy: (a.lungY + f.extent) * s,
                    rx: (a.lungRX - f.extent) * s, ry: (a.lungRY - f.extent) * s)
                let top = (a.lungY - a.lungRY) * s, apexBand = top + 0.35 * 2 * a.lungRY * s
                var space = [Float](repeating: 0, count: img.width * img.height)
                for i in space.indices where Float(i / img.width) < apexBand { space[i] = max(0, lung[i] - collapsed[i]) }
                img.paint(space, [0.03])
                let rim = zip(
                    img.ellipseCoverage(
                        cx: (lx - dir * f.extent) * s, cy: (a.lungY + f.extent) * s,
                        rx: (a.lungRX - f.extent) * s + 1, ry: (a.lungRY - f.extent) * s + 1), collapsed
                )
                .enumerated().map { i, p in Float(i / img.width) < apexBand ? max(0, p.0 - p.1) * lung[i] : 0 }
                img.add(rim, [0.25])
                regions.append(RegionMask(label: label, inside: mask(space)))
            case "atelectasis":
                let (top, bottom) = a.zoneBand("base")
                let y = (top + 0.4 * (bottom - top)) * s, x = a.lungX(side) * s, half = f.extent * s
                var band = img.polylineCoverage([(x - half, y + 0.01 * s), (x, y), (x + half, y + 0.015 * s)], thickness: 0.014 * s)
                band = zip(band, lung).map { min($0, $1) }
                img.add(band, [0.22])
                regions.append(RegionMask(label: label, inside: mask(band)))
            case "edema":
                let hx = (a.cx + (side == "right" ? -0.5 : 0.5) * a.lungSep) * s
                var haze = img.ellipseCoverage(cx: hx, cy: a.lungY * s, rx: f.extent * s, ry: f.extent * 1.3 * s)
                haze = zip(haze, lung).map { min($0, $1) }
                img.add(haze, [0.12])
                regions.append(RegionMask(label: label, inside: mask(haze)))
            case "device":
                let gx = (a.cx + 0.26) * s, gy = 0.2 * s
                let box = img.ellipseCoverage(cx: gx, cy: gy, rx: f.extent * s, ry: f.extent * 0.7 * s)
                img.paint(box, [0.95])
                img.add(
                    img.polylineCoverage(
                        [(gx, gy), ((a.cx + 0.12) * s, 0.3 * s), ((a.cx + 0.05) * s, (a.lungY + 0.15) * s)],
                        thickness: 0.006 * s), [0.4])
                regions.append(RegionMask(label: label, inside: mask(box)))
            default: continue
            }
        }
    }

    /// Exposure, soft blur and quantum noise, then clamp.
    func finish(_ img: inout Image, _ a: ChestAnatomy, _ rng: RandomGenerator) {
        img.blur(radius: 1)
        for i in img.pixels.indices { img.pixels[i] = min(1, max(0, img.pixels[i] * a.exposure)) }
        img.addNoise(a.noise, rng: rng)
    }

    // MARK: lateral view

    /// The lateral view: anterior to the image's left, spine posterior (right); findings keep
    /// their height and take a depth in the lung.
    func lateral(size: Int, anatomy a: ChestAnatomy, findings: [ChestFinding], rng: RandomGenerator) -> (Image, [RegionMask]) {
        let s = Float(size)
        var img = Image(width: size, height: size, channels: 1, fill: 0.04)
        var regions: [RegionMask] = []
        img.paint(img.ellipseCoverage(cx: 0.5 * s, cy: 0.64 * s, rx: 0.36 * s, ry: (a.bodyRY + 0.12) * s), [0.45])
        let lung = img.ellipseCoverage(cx: 0.52 * s, cy: a.lungY * s, rx: 0.25 * s, ry: a.lungRY * s)
        img.paint(lung, [0.14])
        let scale = findings.first { $0.kind == "cardiomegaly" }?.extent ?? 1
        let heart = img.ellipseCoverage(cx: 0.38 * s, cy: (a.lungY + 0.15) * s, rx: 0.13 * scale * s, ry: 0.12 * s)
        img.paint(heart, [0.52], opacity: 0.8)
        if scale > 1 { regions.append(RegionMask(label: "cardiomegaly", inside: mask(heart))) }
        img.add(img.polylineCoverage([(0.8 * s, 0.05 * s), (0.76 * s, 0.95 * s)], thickness: 0.07 * s), [0.2])
        for r in 0..<9 {
            let y = (a.lungY - a.lungRY + 0.04 + Float(r) * 0.055) * s
            img.add(img.polylineCoverage([(0.75 * s, y), (0.5 * s, y + 0.06 * s), (0.27 * s, y + 0.03 * s)], thickness: 0.008 * s), [0.05])
        }
        for f in findings {
            let label = Self.label(f.kind)
            let x = (0.32 + 0.4 * f.depth) * s
            switch f.kind {
            case "nodule", "mass", "consolidation", "opacity":
                let (top, bottom) = a.zoneBand(f.zone)
                let y = (top + f.along * (bottom - top)) * s
                let blob = img.ellipseCoverage(cx: x, cy: y, rx: f.extent * s, ry: f.extent * 0.9 * s)
                if f.kind == "opacity" { img.add(blob, [0.12]) } else { img.add(blob, [f.kind == "consolidation" ? 0.25 : 0.28]) }
                regions.append(RegionMask(label: label, inside: mask(blob)))
            case "effusion":
                // Fluid collects in the posterior costophrenic sulcus.
                let bottom = (a.lungY + a.lungRY) * s, level = bottom - f.extent * 1.6 * a.lungRY * s
                var fluid = lung
                for i in fluid.indices where Float(i / img.width) < level + 0.08 * s * Float(img.width - i % img.width) / s { fluid[i] = 0 }
                img.paint(fluid, [0.5])
                regions.append(RegionMask(label: label, inside: mask(fluid)))
            case "device":
                let box = img.ellipseCoverage(cx: 0.2 * s, cy: 0.2 * s, rx: 0.025 * s, ry: f.extent * s)
                img.paint(box, [0.95])
                regions.append(RegionMask(label: label, inside: mask(box)))
            default: continue  // pneumothorax, edema, atelectasis, fracture: read on the frontal view
            }
        }
        finish(&img, a, rng)
        return (img, regions)
    }
}
