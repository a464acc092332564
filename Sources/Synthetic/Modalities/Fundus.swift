import Foundation
import Imaging
import Tensor

/// Colour fundus photograph: an orange-red retina on black, darker towards its rim, with choroidal
/// texture; a yellow optic disc with a paler cup on the nasal side; the darker macula with its
/// fovea temporal to it; vessel arcades leaving the disc, curving around the macula and branching.
/// Findings (diabetic retinopathy): small dark-red haemorrhages and clusters of yellow hard exudates,
/// each 2-6% of the width, present in some images only.
public struct FundusPhantom: PhantomRenderer {
    public let modality = "Fundus"
    public let hierarchy: [String: String]
    public init(hierarchy: [String: String]) { self.hierarchy = hierarchy }

    public func render(size: Int, rng: RandomGenerator) -> Phantom {
        let s = Float(size)
        var img = Image(width: size, height: size, channels: 3, fill: 0)
        let (cx, cy, rr) = (s * 0.5, s * 0.5, s * rng.uniform(0.44, 0.48))
        let retina = img.ellipseCoverage(cx: cx, cy: cy, rx: rr, ry: rr)
        let base: [Float] = [rng.uniform(0.72, 0.86), rng.uniform(0.28, 0.4), rng.uniform(0.08, 0.16)]
        img.paint(retina, base)
        img.modulate(fractalNoise(width: size, height: size, cell: max(2, size / 10), octaves: 3, rng: rng), amount: 0.1)
        let side: Float = rng.chance(0.5) ? 1 : -1  // right or left eye: the disc lies nasally
        let rd = s * rng.uniform(0.06, 0.075)
        let disc = (cx + side * rr * rng.uniform(0.45, 0.55), cy + rr * rng.uniform(-0.06, 0.06))
        let macula = (disc.0 - side * rd * rng.uniform(4.3, 5), disc.1 + rd * rng.uniform(0, 0.6))
        let maculaMask = drawMacula(&img, at: macula, rd: rd)
        let vessels = drawVessels(&img, disc: disc, macula: macula, rd: rd, side: side, retina: retina, s, rng)
        let (discMask, cupMask) = drawDisc(&img, at: disc, rd: rd, side: side, rng)
        var regions = [
            RegionMask(label: "retina", inside: mask(retina)), RegionMask(label: "optic disc", inside: discMask),
            RegionMask(label: "optic cup", inside: cupMask), RegionMask(label: "macula", inside: maculaMask),
            RegionMask(label: "retinal vessel", inside: subtract(intersect(vessels, mask(retina)), discMask))
        ]
        regions += drawFindings(&img, retina: mask(retina), avoid: discMask, center: (cx, cy), rr: rr, macula: macula, s, rng)
        vignette(&img, cx: cx, cy: cy, rr: rr)
        img.blur(radius: 1)
        img.addGrain(0.01, rng: rng)
        img.paint(retina.map { 1 - $0 }, [0])
        return Phantom(image: img, regions: regions, modality: modality)
    }

    /// Illumination falls off towards the rim of the field.
    func vignette(_ img: inout Image, cx: Float, cy: Float, rr: Float) {
        let n = img.width * img.height
        for y in 0..<img.height {
            for x in 0..<img.width {
                let (dx, dy) = ((Float(x) - cx) / rr, (Float(y) - cy) / rr)
                let d2 = dx * dx + dy * dy
                let f = max(0.3, 1.08 - 0.55 * d2 * d2.squareRoot().squareRoot())  // ~ d^2.5, without pow per pixel
                for c in 0..<3 { img.pixels[c * n + y * img.width + x] *= f }
            }
        }
    }

    /// Disc (yellow-orange, brighter rim) and cup (pale, offset temporally). Returns both masks.
    func drawDisc(_ img: inout Image, at d: (Float, Float), rd: Float, side: Float, _ rng: RandomGenerator) -> ([Bool], [Bool]) {
        img.paint(img.ellipseCoverage(cx: d.0, cy: d.1, rx: rd * 1.4, ry: rd * 1.5), [0.95, 0.6, 0.3], opacity: 0.3)  // peripapillary glow
        let disc = img.ellipseCoverage(cx: d.0, cy: d.1, rx: rd * 0.92, ry: rd)
        img.paint(disc, [0.98, 0.78, 0.45])
        let k = rng.uniform(0.3, 0.6)  // cup-to-disc ratio: large cups are glaucoma's sign
        let cup = img.ellipseCoverage(cx: d.0 - side * rd * 0.15, cy: d.1, rx: rd * k * 0.9, ry: rd * k)
        img.paint(cup, [1, 0.93, 0.75])
        for a in [Float(-1.2), -0.4, 0.5, 1.3] {  // vessel trunks crossing the disc
            let top = (d.0 + rd * 0.3 * sin(a), d.1 - rd * 1.1), bottom = (d.0 + rd * 0.3 * sin(a), d.1 + rd * 1.1)
            img.paint(
                img.polylineCoverage([(d.0 - side * rd * 0.1, d.1), a < 0 ? top : bottom], thickness: max(1, rd * 0.16)), [0.6, 0.12, 0.06],
                opacity: 0.8)
        }
        return (mask(disc), mask(cup))
    }

    /// Macula: a darker, redder patch with the fovea's darkest centre and a faint light reflex.
    func drawMacula(_ img: inout Image, at m: (Float, Float), rd: Float) -> [Bool] {
        let n = img.width * img.height, reach = Int(rd * 3)
        // Luteal pigment: a smooth Gaussian darkening, strongest in green and blue, no visible edge.
        for y in max(0, Int(m.1) - reach)..<min(img.height, Int(m.1) + reach) {
            for x in max(0, Int(m.0) - reach)..<min(img.width, Int(m.0) + reach) {
                let (dx, dy) = ((Float(x) + 0.5 - m.0) / (rd * 1.3), (Float(y) + 0.5 - m.1) / (rd * 1.3))
                let g = exp(-(dx * dx + dy * dy))
                for (c, k) in [(0, Float(0.3)), (1, 0.5), (2, 0.5)] { img.pixels[c * n + y * img.width + x] *= 1 - k * g }
            }
        }
        let outer = img.ellipseCoverage(cx: m.0, cy: m.1, rx: rd * 1.3, ry: rd * 1.3)
        img.paint(img.ellipseCoverage(cx: m.0, cy: m.1, rx: max(1, rd * 0.08), ry: max(1, rd * 0.08)), [0.9, 0.7, 0.5], opacity: 0.5)
        return mask(outer)
    }

    /// Four main vessels from the disc: temporal arcades arching above and below the macula and
    /// shorter nasal ones, each tapering and branching. Returns the vessel mask.
    func drawVessels(
        _ img: inout Image, disc: (Float, Float), macula: (Float, Float), rd: Float, side: Float,
        retina: [Float], _ s: Float, _ rng: RandomGenerator
    ) -> [Bool] {
        var all = [Float](repeating: 0, count: img.width * img.height)
        for (vertical, temporal) in [(Float(-1), true), (1, true), (-1, false), (1, false)] {
            for vein in [true, false] {
                // Temporal vessels start up/down, then turn towards the far side of the macula.
                let heading =
                    temporal
                    ? (vertical < 0 ? -Float.pi / 2 : Float.pi / 2) + side * vertical * rng.uniform(0.05, 0.3)
                    : (side > 0 ? 0 : Float.pi) + vertical * rng.uniform(0.3, 0.8)
                let turn = temporal ? side * vertical * rng.uniform(0.09, 0.13) : vertical * rng.uniform(-0.04, 0.04)
                let start = (disc.0 + rng.uniform(-0.3, 0.3) * rd, disc.1 + vertical * rd * 0.5)
                let width = (vein ? 0.23 : 0.17) * rd * (temporal ? 1 : 0.8)
                growVessel(
                    &img, &all, from: start, heading: heading + (vein ? 0.08 : -0.08), turn: turn, width: width,
                    steps: temporal ? 16 : 10, step: s * 0.035, vein: vein, depth: 0, rng)
            }
        }
        return mask(zip(all, retina).map { min($0, $1) })
    }

    /// A tapering vessel as a chain of short segments; branches sprout with thinner, straighter children.
    func growVessel(
        _ img: inout Image, _ all: inout [Float], from p0: (Float, Float), heading h0: Float, turn: Float,
        width w0: Float, steps: Int, step: Float, vein: Bool, depth: Int, _ rng: RandomGenerator
    ) {
        var (p, h, w) = (p0, h0, w0)
        let color: [Float] = vein ? [0.48, 0.07, 0.04] : [0.66, 0.16, 0.08]
        for i in 0..<steps where w > 0.5 {
            h += turn + rng.uniform(-0.12, 0.12)
            let q = (p.0 + cos(h) * step, p.1 + sin(h) * step)
            let seg = img.strokePatch([p, q], thickness: w)
            img.paint(seg, color, opacity: 0.9)
            seg.raise(&all, width: img.width)
            if depth < 2, i > 1, rng.chance(0.22) {
                let dir: Float = rng.chance(0.5) ? 1 : -1
                growVessel(
                    &img, &all, from: q, heading: h + dir * rng.uniform(0.5, 1.0), turn: 0, width: w * 0.65,
                    steps: max(3, steps / 2), step: step * 0.8, vein: vein, depth: depth + 1, rng)
            }
            p = q; w *= 0.93
        }
    }

    /// Haemorrhages (dark-red blots) and hard exudates (yellow clusters, often around the macula),
    /// each present in part of the images only. Returns one region per lesion.
    func drawFindings(
        _ img: inout Image, retina: [Bool], avoid: [Bool], center: (Float, Float), rr: Float,
        macula: (Float, Float), _ s: Float, _ rng: RandomGenerator
    ) -> [RegionMask] {
        var out: [RegionMask] = []
        func place(_ x: Float, _ y: Float, _ r: Float, _ label: String, _ color: [Float], _ wobble: Wobble) {
            let cov = img.blobCoverage(cx: x, cy: y, radius: r, wobble: wobble)
            let m = subtract(intersect(mask(cov), retina), avoid)
            guard m.contains(true) else { return }
            img.paint(cov, color, opacity: 0.95)
            out.append(RegionMask(label: label, inside: m))
        }
        if rng.chance(0.45) {
            for _ in 0..<rng.int(1, 4) {
                let a = rng.uniform(0, 2 * .pi), d = rr * rng.uniform(0.1, 0.75)
                place(
                    center.0 + d * cos(a), center.1 + d * sin(a), s * rng.uniform(0.014, 0.03), "hemorrhage",
                    [0.42, 0.04, 0.03], Wobble(rng: rng, harmonics: 4, amplitude: 0.25))
            }
        }
        if rng.chance(0.4) {
            let a = rng.uniform(0, 2 * .pi), d = rr * rng.uniform(0.12, 0.3)
            let (ex, ey) = (macula.0 + d * cos(a), macula.1 + d * sin(a))
            for _ in 0..<rng.int(1, 4) {
                place(
                    ex + rng.uniform(-1, 1) * s * 0.04, ey + rng.uniform(-1, 1) * s * 0.04, s * rng.uniform(0.013, 0.022), "exudate",
                    [0.96, 0.86, 0.4], Wobble(rng: rng, harmonics: 3, amplitude: 0.2))
            }
        }
        return out
    }
}
