import Foundation
import Imaging
import Tensor

/// Axial contrast-enhanced abdominal CT in a soft-tissue window (air black, fat dark grey, organs
/// mid grey, enhanced vessels and kidney cortex bright, bone white), at the level where liver,
/// spleen, both kidneys, the aorta and a vertebra share one slice. Findings: hypodense liver lesions
/// (a few % of the width, in about half of the slices) and occasional renal cysts.
public struct CTPhantom: PhantomRenderer {
    public let modality = "CT"
    public let hierarchy: [String: String]
    public init(hierarchy: [String: String]) { self.hierarchy = hierarchy }

    /// Intensities: soft-tissue window (W 400, L 40) mapped to [0, 1].
    enum HU {
        static let air: Float = 0.02, fat: Float = 0.17, fluid: Float = 0.41, muscle: Float = 0.52
        static let liver: Float = 0.64, spleen: Float = 0.67, cortex: Float = 0.86, medulla: Float = 0.58
        static let vessel: Float = 0.9, bone: Float = 0.98, marrow: Float = 0.78, lesion: Float = 0.46
    }

    /// The patient's outline in pixels; organs are placed relative to it.
    struct Body { var cx, cy, rx, ry: Float }

    public func render(size: Int, rng: RandomGenerator) -> Phantom {
        let s = Float(size)
        var img = Image(width: size, height: size, channels: 1, fill: HU.air)
        let b = Body(
            cx: s * (0.5 + rng.uniform(-0.03, 0.03)), cy: s * (0.48 + rng.uniform(-0.02, 0.03)),
            rx: s * rng.uniform(0.40, 0.46), ry: s * rng.uniform(0.29, 0.34))
        var regions: [RegionMask] = []
        drawTable(&img, b, s)
        let body = img.ellipseCoverage(cx: b.cx, cy: b.cy, rx: b.rx, ry: b.ry)
        img.paint(body, [HU.fat])
        img.paint(img.ellipseCoverage(cx: b.cx, cy: b.cy, rx: b.rx * 0.92, ry: b.ry * 0.88), [HU.muscle])
        let cavity = img.ellipseCoverage(cx: b.cx, cy: b.cy + b.ry * 0.02, rx: b.rx * 0.86, ry: b.ry * 0.8)
        img.paint(cavity, [HU.fat + 0.04])
        regions.append(RegionMask(label: "abdomen", inside: mask(body)))
        drawBowel(&img, b, cavity, rng)
        let liver = drawLiver(&img, b, cavity, rng)
        regions.append(RegionMask(label: "liver", inside: liver))
        let spleen = zip(
            img.ellipseCoverage(
                cx: b.cx + b.rx * 0.6, cy: b.cy - b.ry * 0.05, rx: b.rx * rng.uniform(0.12, 0.17),
                ry: b.ry * rng.uniform(0.32, 0.42), angle: -0.5), cavity
        ).map { min($0, $1) }
        img.paint(spleen, [HU.spleen])
        regions.append(RegionMask(label: "spleen", inside: mask(spleen)))
        regions += drawSpineAndVessels(&img, b, s, rng)
        let kidneys = [Float(-1), 1].map { side in drawKidney(&img, b, side: side, rng) }
        regions += kidneys.map { RegionMask(label: "kidney", inside: $0) }
        regions += drawLiverLesions(&img, liver: liver, b, s, rng)
        if rng.chance(0.25), let cyst = drawRenalCyst(&img, kidney: kidneys[rng.int(2)], s, rng) { regions.append(cyst) }
        // Quantum noise, then a small blur: CT noise is spatially correlated, not per-pixel white.
        img.addGrain(0.05, rng: rng)
        img.blur(radius: 1)
        img.clamp()
        return Phantom(image: img, regions: regions, modality: modality)
    }

    /// The curved scanner table under the patient (unlabelled, but every CT slice shows it).
    func drawTable(_ img: inout Image, _ b: Body, _ s: Float) {
        let y = b.cy + b.ry + s * 0.05
        let arc = stride(from: Float(-1), through: 1, by: 0.1).map { t in (b.cx + t * b.rx * 1.1, y - 0.03 * s * (1 - t * t)) }
        img.paint(img.polylineCoverage(arc, thickness: s * 0.012), [0.38])
    }

    /// Small-bowel and colon loops in the anterior abdomen: walled blobs, some holding gas.
    func drawBowel(_ img: inout Image, _ b: Body, _ cavity: [Float], _ rng: RandomGenerator) {
        for _ in 0..<rng.int(7, 12) {
            let x = b.cx + b.rx * rng.uniform(-0.55, 0.6), y = b.cy + b.ry * rng.uniform(-0.35, 0.35)
            let r = b.rx * rng.uniform(0.07, 0.13)
            let wall = zip(img.ellipseCoverage(cx: x, cy: y, rx: r, ry: r * rng.uniform(0.6, 1), angle: rng.uniform(0, 3)), cavity).map {
                min($0, $1)
            }
            img.paint(wall, [HU.muscle + rng.uniform(-0.05, 0.05)])
            if rng.chance(0.35) {
                img.paint(img.ellipsePatch(cx: x, cy: y, rx: r * 0.55, ry: r * 0.45), [HU.air + 0.03])
            }
        }
    }

    /// Right lobe (image left) plus the left lobe reaching across the midline, with enhancing portal
    /// veins inside. Returns the liver mask.
    func drawLiver(_ img: inout Image, _ b: Body, _ cavity: [Float], _ rng: RandomGenerator) -> [Bool] {
        let right = img.ellipseCoverage(
            cx: b.cx - b.rx * rng.uniform(0.4, 0.46), cy: b.cy - b.ry * 0.12,
            rx: b.rx * rng.uniform(0.38, 0.45), ry: b.ry * rng.uniform(0.58, 0.68), angle: 0.35)
        let left = img.ellipseCoverage(
            cx: b.cx - b.rx * rng.uniform(0.0, 0.12), cy: b.cy - b.ry * 0.48,
            rx: b.rx * rng.uniform(0.22, 0.34), ry: b.ry * rng.uniform(0.18, 0.26), angle: 0.15)
        let liver = zip(maxCoverage([right, left]), cavity).map { min($0, $1) }
        img.paint(liver, [HU.liver + rng.uniform(-0.04, 0.04)])
        let hilum = (b.cx - b.rx * 0.25, b.cy - b.ry * 0.05)
        for _ in 0..<rng.int(3, 5) {
            let a = rng.uniform(2.2, 4.4), len = b.rx * rng.uniform(0.2, 0.4)
            let mid = (hilum.0 + cos(a) * len * 0.5 + rng.uniform(-3, 3), hilum.1 + sin(a) * len * 0.5 + rng.uniform(-3, 3))
            let vein = img.polylineCoverage([hilum, mid, (hilum.0 + cos(a) * len, hilum.1 + sin(a) * len)], thickness: b.rx * 0.035)
            img.paint(zip(vein, liver).map { $0 * $1 }, [HU.liver + 0.1])
        }
        return mask(liver)
    }

    /// Vertebral body with posterior elements, paraspinal and psoas muscles, the aorta and the IVC.
    func drawSpineAndVessels(_ img: inout Image, _ b: Body, _ s: Float, _ rng: RandomGenerator) -> [RegionMask] {
        let r = s * rng.uniform(0.045, 0.058)
        let (vx, vy) = (b.cx + rng.uniform(-2, 2), b.cy + b.ry * 0.58)
        for side in [Float(-1), 1] {
            img.paint(img.ellipseCoverage(cx: vx + side * r * 2.1, cy: vy + r * 2.2, rx: r * 1.3, ry: r * 0.95), [HU.muscle])
            img.paint(img.ellipseCoverage(cx: vx + side * r * 1.5, cy: vy - r * 0.2, rx: r * 0.6, ry: r * 0.85), [HU.muscle - 0.02])
        }
        let vertebra = img.ellipseCoverage(cx: vx, cy: vy, rx: r, ry: r * 0.9)
        img.paint(vertebra, [HU.bone])
        img.paint(img.ellipseCoverage(cx: vx, cy: vy, rx: r * 0.82, ry: r * 0.72), [HU.marrow])
        let canal = (vx, vy + r * 1.45)
        let arch = [
            (vx - r * 0.6, vy + r * 0.7), (canal.0 - r * 0.55, canal.1 + r * 0.45), (vx, canal.1 + r * 0.7),
            (canal.0 + r * 0.55, canal.1 + r * 0.45), (vx + r * 0.6, vy + r * 0.7)
        ]
        let elements = maxCoverage([
            img.polylineCoverage(arch, thickness: r * 0.38),
            img.polylineCoverage([(vx, canal.1 + r * 0.7), (vx, canal.1 + r * 1.7)], thickness: r * 0.35),
            img.polylineCoverage([(vx - r * 0.6, vy + r * 1.0), (vx - r * 1.8, vy + r * 1.3)], thickness: r * 0.3),
            img.polylineCoverage([(vx + r * 0.6, vy + r * 1.0), (vx + r * 1.8, vy + r * 1.3)], thickness: r * 0.3)
        ])
        img.paint(elements, [HU.bone - 0.05])
        img.paint(img.ellipseCoverage(cx: canal.0, cy: canal.1, rx: r * 0.42, ry: r * 0.38), [HU.fluid - 0.05])
        let aorta = img.ellipseCoverage(cx: vx + r * rng.uniform(0.2, 0.6), cy: vy - r * 1.5, rx: r * 0.48, ry: r * 0.48)
        img.paint(aorta, [HU.vessel])
        img.paint(img.ellipseCoverage(cx: vx - r * 1.5, cy: vy - r * 1.45, rx: r * 0.6, ry: r * 0.4, angle: 0.3), [HU.vessel - 0.15])
        return [
            RegionMask(label: "spine", inside: mask(maxCoverage([vertebra, elements]))),
            RegionMask(label: "aorta", inside: mask(aorta))
        ]
    }

    /// One kidney: enhancing cortex around darker medulla and a fat-filled sinus facing the hilum.
    func drawKidney(_ img: inout Image, _ b: Body, side: Float, _ rng: RandomGenerator) -> [Bool] {
        let (x, y) = (b.cx + side * b.rx * rng.uniform(0.36, 0.44), b.cy + b.ry * rng.uniform(0.3, 0.42))
        let (rx, ry, a) = (b.rx * rng.uniform(0.1, 0.13), b.ry * rng.uniform(0.19, 0.25), side * rng.uniform(0.3, 0.6))
        let kidney = img.ellipseCoverage(cx: x, cy: y, rx: rx, ry: ry, angle: a)
        img.paint(kidney, [HU.cortex])
        img.paint(img.ellipseCoverage(cx: x - side * rx * 0.15, cy: y, rx: rx * 0.6, ry: ry * 0.7, angle: a), [HU.medulla])
        img.paint(img.ellipseCoverage(cx: x - side * rx * 0.55, cy: y, rx: rx * 0.35, ry: ry * 0.35, angle: a), [HU.fat + 0.05])
        return mask(kidney)
    }

    /// 0-3 hypodense lesions inside the liver in 55% of slices, 2.8-7% of the width across.
    func drawLiverLesions(_ img: inout Image, liver: [Bool], _ b: Body, _ s: Float, _ rng: RandomGenerator) -> [RegionMask] {
        guard rng.chance(0.55) else { return [] }
        var out: [RegionMask] = []
        for _ in 0..<rng.int(1, 3) {
            let r = s * rng.uniform(0.014, 0.035)
            guard let (x, y) = pointInside(liver, size: img.width, margin: Int(r), rng) else { break }
            let cov = img.blobCoverage(cx: x, cy: y, radius: r, wobble: Wobble(rng: rng, harmonics: 3, amplitude: 0.12))
            img.paint(img.blobCoverage(cx: x, cy: y, radius: r * 1.35), [HU.lesion + 0.08], opacity: 0.5)  // ill-defined rim
            img.paint(cov, [HU.lesion + rng.uniform(-0.05, 0.03)])
            out.append(RegionMask(label: "liver lesion", inside: intersect(mask(cov), liver)))
        }
        return out
    }

    /// A water-density cyst at the edge of a kidney.
    func drawRenalCyst(_ img: inout Image, kidney: [Bool], _ s: Float, _ rng: RandomGenerator) -> RegionMask? {
        guard let (x, y) = pointInside(kidney, size: img.width, margin: 1, rng) else { return nil }
        let cov = img.ellipseCoverage(cx: x, cy: y, rx: s * rng.uniform(0.014, 0.024), ry: s * rng.uniform(0.014, 0.024))
        img.paint(cov, [HU.fluid])
        let inside = intersect(mask(cov), kidney)
        return RegionMask(label: "renal cyst", inside: inside)
    }
}

/// A random pixel centre of `region` at least `margin` pixels from its border (by a cross-shaped
/// test), or nil when none is found in a bounded number of tries.
func pointInside(_ region: [Bool], size: Int, margin: Int, _ rng: RandomGenerator) -> (Float, Float)? {
    let cells = region.indices.filter { region[$0] }
    guard !cells.isEmpty else { return nil }
    for _ in 0..<64 {
        let i = cells[rng.int(cells.count)], (x, y) = (i % size, i / size)
        let ok = [(margin, 0), (-margin, 0), (0, margin), (0, -margin)].allSatisfy { d in
            let (nx, ny) = (x + d.0, y + d.1)
            return nx >= 0 && ny >= 0 && nx < size && ny < size && region[ny * size + nx]
        }
        if ok { return (Float(x) + 0.5, Float(y) + 0.5) }
    }
    return nil
}
