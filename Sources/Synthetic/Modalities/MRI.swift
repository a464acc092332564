import Foundation
import Imaging
import Tensor

/// Axial brain MRI at the level of the lateral ventricles with FLAIR-like contrast: bright scalp
/// fat, dark skull and CSF, grey matter brighter than white matter, sulci and the interhemispheric
/// fissure dark. In about 70% of slices a tumour (enhancing rim, sometimes a necrotic core) sits in
/// one hemisphere inside bright peritumoral oedema that stops at the midline.
public struct MRIPhantom: PhantomRenderer {
    public let modality = "MRI"
    public let hierarchy: [String: String]
    public init(hierarchy: [String: String]) { self.hierarchy = hierarchy }

    /// The head's frame: centre, semi-axes and a small in-plane tilt; `at(u, v)` maps head-frame
    /// offsets (u across, v front to back) to pixels.
    struct Head {
        var cx, cy, rx, ry, angle: Float
        func at(_ u: Float, _ v: Float) -> (Float, Float) {
            (cx + u * cos(angle) - v * sin(angle), cy + u * sin(angle) + v * cos(angle))
        }
        /// Head-frame u (signed distance from the midline) of a pixel.
        func across(_ x: Float, _ y: Float) -> Float { (x - cx) * cos(angle) + (y - cy) * sin(angle) }
    }

    public func render(size: Int, rng: RandomGenerator) -> Phantom {
        let s = Float(size)
        var img = Image(width: size, height: size, channels: 1, fill: 0.01)
        let h = Head(
            cx: s * (0.5 + rng.uniform(-0.03, 0.03)), cy: s * (0.5 + rng.uniform(-0.02, 0.02)),
            rx: s * rng.uniform(0.33, 0.37), ry: s * rng.uniform(0.41, 0.45), angle: rng.uniform(-0.08, 0.08))
        func shell(_ k: Float) -> [Float] { img.ellipseCoverage(cx: h.cx, cy: h.cy, rx: h.rx * k, ry: h.ry * k, angle: h.angle) }
        img.paint(shell(1), [0.55])  // scalp fat
        let bone = shell(0.95)
        img.paint(bone, [0.06])
        let csf = shell(0.905)
        img.paint(csf, [0.14])
        let brain = drawBrain(&img, h, rng)
        let gap = s * 0.006
        let hemis = [Float(-1), 1].map { side in
            intersect(brain, mask(img.fieldCoverage { x, y in gap - side * h.across(x, y) }))
        }
        var regions = [
            RegionMask(label: "skull", inside: subtract(mask(bone), mask(csf))),
            RegionMask(label: "brain", inside: brain),
            RegionMask(label: "right hemisphere", inside: hemis[0]),  // radiological convention: patient's right on image left
            RegionMask(label: "left hemisphere", inside: hemis[1])
        ]
        var ventricles = drawVentricles(&img, h, s, rng)
        if rng.chance(0.7) {
            // Drawn after the ventricles: a tumour and its oedema displace whatever lay there.
            let side = rng.int(2)
            let t = drawTumor(&img, h, hemisphere: hemis[side], side: side == 0 ? -1 : 1, s, rng)
            ventricles = subtract(ventricles, union(t.core, t.edema))
            regions.append(RegionMask(label: "tumor", inside: t.core))
            regions.append(RegionMask(label: "peritumoral edema", inside: t.edema))
        }
        regions.append(RegionMask(label: "ventricle", inside: ventricles))
        // Smooth anatomy, a slow coil-sensitivity bias field, then thermal noise.
        img.blur(radius: 1)
        img.modulate(smoothNoise(width: size, height: size, cell: max(4, size / 2), rng: rng), amount: 0.1)
        img.addGrain(0.018, rng: rng)
        return Phantom(image: img, regions: regions, modality: modality)
    }

    /// Cortex (grey matter) over white matter, sulci cutting in from the surface, the fissure.
    /// Returns the brain mask.
    func drawBrain(_ img: inout Image, _ h: Head, _ rng: RandomGenerator) -> [Bool] {
        let outline = img.ellipseCoverage(cx: h.cx, cy: h.cy, rx: h.rx * 0.88, ry: h.ry * 0.88, angle: h.angle)
        img.paint(outline, [0.5])
        let wmWobble = Wobble(rng: rng, harmonics: 10, amplitude: 0.1)
        let wm = img.fieldCoverage { x, y in
            let u = h.across(x, y), v = -(x - h.cx) * sin(h.angle) + (y - h.cy) * cos(h.angle)
            let (a, b) = (h.rx * 0.7, h.ry * 0.74)
            let r = ((u / a) * (u / a) + (v / b) * (v / b)).squareRoot(), inv = r > 1e-6 ? 1 / r : 0
            return (r - 1 - wmWobble.at(cos: r > 1e-6 ? u / a * inv : 1, sin: v / b * inv)) * min(a, b)
        }
        img.paint(wm, [0.4])
        for _ in 0..<rng.int(28, 40) {  // sulci: dark CSF clefts from the surface towards the white matter
            let t = rng.uniform(0, 2 * .pi), depth = rng.uniform(0.08, 0.2)
            let outer = h.at(h.rx * 0.88 * cos(t), h.ry * 0.88 * sin(t))
            let inner = h.at(h.rx * (0.88 - depth) * cos(t + rng.uniform(-0.05, 0.05)), h.ry * (0.88 - depth) * sin(t))
            img.paint(img.strokePatch([outer, inner], thickness: max(1, h.rx * 0.012)), [0.16], opacity: 0.8)
        }
        for (v0, v1) in [(Float(-0.9), Float(-0.3)), (0.35, 0.9)] {
            img.paint(img.polylineCoverage([h.at(0, h.ry * v0), h.at(0, h.ry * v1)], thickness: max(1.5, h.rx * 0.02)), [0.14])
        }
        return mask(outline)
    }

    /// Lateral ventricles: frontal bodies diverging forwards plus occipital horns, dark on FLAIR.
    /// Their size varies (atrophy, age). Returns the ventricle mask.
    func drawVentricles(_ img: inout Image, _ h: Head, _ s: Float, _ rng: RandomGenerator) -> [Bool] {
        let k = rng.uniform(0.8, 1.3)
        var parts: [[Float]] = []
        for side in [Float(-1), 1] {
            let body = h.at(side * s * 0.035 * k, -s * 0.03)
            parts.append(img.ellipseCoverage(cx: body.0, cy: body.1, rx: s * 0.02 * k, ry: s * 0.1 * k, angle: h.angle - side * 0.3))
            let horn = h.at(side * s * 0.06 * k, s * 0.09)
            parts.append(img.ellipseCoverage(cx: horn.0, cy: horn.1, rx: s * 0.015 * k, ry: s * 0.045 * k, angle: h.angle + side * 0.5))
        }
        let cov = maxCoverage(parts)
        img.paint(cov, [0.1])
        return mask(cov)
    }

    /// Oedema (bright, finger-like border, kept to its hemisphere) around a tumour with an
    /// enhancing rim and often a necrotic core. Returns the tumour and the oedema-only masks.
    func drawTumor(
        _ img: inout Image, _ h: Head, hemisphere: [Bool], side: Float, _ s: Float,
        _ rng: RandomGenerator
    ) -> (core: [Bool], edema: [Bool]) {
        let r = s * rng.uniform(0.028, 0.07)
        let t = rng.uniform(0, 2 * .pi), rho = rng.uniform(0.2, 0.6)
        let (x, y) = h.at(side * h.rx * 0.8 * (0.25 + rho * abs(cos(t))), h.ry * 0.75 * rho * sin(t))
        let hemiCov = hemisphere.map { Float($0 ? 1 : 0) }
        let edemaCov = zip(
            img.blobCoverage(
                cx: x, cy: y, radius: r * rng.uniform(1.5, 2.3),
                wobble: Wobble(rng: rng, harmonics: 5, amplitude: 0.3)), hemiCov
        ).map { $0 * $1 }
        img.paint(edemaCov, [0.74])
        let core = zip(img.blobCoverage(cx: x, cy: y, radius: r, wobble: Wobble(rng: rng, harmonics: 3, amplitude: 0.15)), hemiCov).map { $0 * $1 }
        img.paint(core, [0.85])
        if rng.chance(0.6) {
            img.paint(img.blobCoverage(cx: x + rng.uniform(-1, 1), cy: y + rng.uniform(-1, 1), radius: r * rng.uniform(0.4, 0.65)), [0.3])
        }
        let coreMask = mask(core)
        return (coreMask, subtract(mask(edemaCov), coreMask))
    }
}
