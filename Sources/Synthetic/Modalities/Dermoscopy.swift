import Foundation
import Imaging
import Tensor

/// Dermoscopic image: evenly lit skin with fine texture and skin lines, a pigmented lesion with an
/// irregular, partly blurred border, darker centre, reticular pigment network, dots and sometimes a
/// blue-white veil, dark hairs across it, and often the dermoscope's round field of view.
/// The lesion is the subject of the photograph, so it is large (30-60% of the width).
public struct DermoscopyPhantom: PhantomRenderer {
    public let modality = "Dermoscopy"
    public let hierarchy: [String: String]
    public init(hierarchy: [String: String]) { self.hierarchy = hierarchy }

    public func render(size: Int, rng: RandomGenerator) -> Phantom {
        let s = Float(size)
        var img = Image(width: size, height: size, channels: 3, fill: 0)
        let tone = rng.uniform(0.85, 1.05)
        let skin: [Float] = [min(1, 0.88 * tone), 0.68 * tone * rng.uniform(0.95, 1.05), 0.58 * tone * rng.uniform(0.9, 1.05)]
        img.paint([Float](repeating: 1, count: size * size), skin)
        img.modulate(fractalNoise(width: size, height: size, cell: max(2, size / 4), octaves: 4, rng: rng), amount: 0.06)
        drawSkinLines(&img, s, rng)
        let lesion = drawLesion(&img, s, rng)
        drawHairs(&img, s, rng)
        img.blur(radius: 1)
        img.addGrain(0.012, rng: rng)
        var field = [Float](repeating: 1, count: size * size)
        if rng.chance(0.5) {  // the dermoscope's circular field, black beyond it
            field = img.ellipseCoverage(cx: s / 2, cy: s / 2, rx: s * rng.uniform(0.5, 0.6), ry: s * rng.uniform(0.5, 0.6))
            img.paint(field.map { 1 - $0 }, [0.02])
        }
        let skinMask = mask(field)
        return Phantom(
            image: img,
            regions: [
                RegionMask(label: "skin", inside: skinMask),
                RegionMask(label: "skin lesion", inside: intersect(lesion, skinMask))
            ],
            modality: modality)
    }

    /// Two crossing families of faint furrows (the skin's surface lines).
    func drawSkinLines(_ img: inout Image, _ s: Float, _ rng: RandomGenerator) {
        for family in 0..<2 {
            let a = rng.uniform(0, .pi) + Float(family) * 1.2, (ux, uy) = (cos(a), sin(a))
            for _ in 0..<rng.int(6, 12) {
                let off = rng.uniform(-0.7, 0.7) * s, (cx, cy) = (s / 2 - uy * off, s / 2 + ux * off)
                // Many short segments: each is distance-tested over its own small box only.
                let line = stride(from: -s, through: s, by: s / 8).map { t in (cx + ux * t, cy + uy * t) }
                img.paint(img.strokePatch(line, thickness: max(1, s * 0.004)), [0.55, 0.38, 0.32], opacity: 0.12)
            }
        }
    }

    /// The lesion: concentric shades of brown sharing one irregular outline, eccentric dark blotch,
    /// pigment network, dots, optional blue-white veil. Returns its mask.
    func drawLesion(_ img: inout Image, _ s: Float, _ rng: RandomGenerator) -> [Bool] {
        let (cx, cy) = (s * (0.5 + rng.uniform(-0.08, 0.08)), s * (0.5 + rng.uniform(-0.08, 0.08)))
        let r = s * rng.uniform(0.15, 0.3)
        let wobble = Wobble(rng: rng, harmonics: 6, amplitude: rng.uniform(0.1, 0.25))
        let dark = rng.uniform(0.5, 1)  // nevi are light brown, melanomas dark
        let light: [Float] = [0.62, 0.42, 0.3], deep: [Float] = [0.28 - 0.12 * dark, 0.16 - 0.08 * dark, 0.1 - 0.05 * dark]
        img.paint(img.blobCoverage(cx: cx, cy: cy, radius: r * 1.08, wobble: wobble, softness: r * 0.15), light, opacity: 0.35)  // fuzzy margin
        let outline = img.blobCoverage(cx: cx, cy: cy, radius: r, wobble: wobble)
        img.paint(outline, light, opacity: 0.9)
        let mid = zip(light, deep).map { ($0 + $1) / 2 }
        img.paint(img.blobCoverage(cx: cx, cy: cy, radius: r * 0.72, wobble: wobble, softness: r * 0.25), mid, opacity: 0.8)
        let off = (rng.uniform(-0.3, 0.3) * r, rng.uniform(-0.3, 0.3) * r)
        img.paint(
            img.blobCoverage(
                cx: cx + off.0, cy: cy + off.1, radius: r * rng.uniform(0.25, 0.45),
                wobble: Wobble(rng: rng, harmonics: 4, amplitude: 0.3), softness: r * 0.12), deep, opacity: 0.85)
        drawNetwork(&img, outline: outline, cx: cx, cy: cy, r: r, color: deep, rng)
        for _ in 0..<rng.int(0, 14) {  // dots and globules
            let a = rng.uniform(0, 2 * .pi), d = r * rng.uniform(0.1, 0.9)
            let g = max(1, s * rng.uniform(0.004, 0.01))
            img.paint(img.ellipsePatch(cx: cx + d * cos(a), cy: cy + d * sin(a), rx: g, ry: g), deep, opacity: 0.8)
        }
        if rng.chance(0.3) {
            img.paint(
                img.blobCoverage(cx: cx - off.0, cy: cy - off.1, radius: r * rng.uniform(0.25, 0.4), softness: r * 0.2), [0.48, 0.52, 0.62],
                opacity: 0.45)
        }
        return mask(outline)
    }

    /// Reticular pigment network: an irregular mesh of brown lines (jittered spacing, wandering
    /// lines), patchy and fading towards the border as in real nevi.
    func drawNetwork(_ img: inout Image, outline: [Float], cx: Float, cy: Float, r: Float, color: [Float], _ rng: RandomGenerator) {
        let step = max(3, r * rng.uniform(0.1, 0.16))
        var lines = [Float](repeating: 0, count: outline.count)
        for dir in 0..<2 {
            var o = -r
            while o <= r {
                var w = o
                let pts = stride(from: -r, through: r, by: step / 2).map { t -> (Float, Float) in
                    w += rng.uniform(-0.25, 0.25) * step
                    w += (o - w) * 0.3  // wander, but stay near this line's place in the mesh
                    return dir == 0 ? (cx + t, cy + w) : (cx + w, cy + t)
                }
                img.strokePatch(pts, thickness: max(1, step * 0.18)).raise(&lines, width: img.width)
                o += step * rng.uniform(0.7, 1.3)
            }
        }
        let patchy = smoothNoise(width: img.width, height: img.height, cell: max(2, Int(r * 0.5)), rng: rng)
        img.paint((0..<lines.count).map { lines[$0] * outline[$0] * max(0, 0.6 + patchy[$0]) }, color, opacity: 0.3)
    }

    /// Dark hairs: thin curved strands crossing the field (0-10 of them).
    func drawHairs(_ img: inout Image, _ s: Float, _ rng: RandomGenerator) {
        for _ in 0..<rng.int(0, 10) {
            let p0 = (rng.uniform(-0.1, 1.1) * s, rng.uniform(-0.1, 1.1) * s)
            let a = rng.uniform(0, 2 * .pi), len = s * rng.uniform(0.3, 0.9), bend = rng.uniform(-0.4, 0.4)
            let pts = stride(from: Float(0), through: 1, by: 0.1).map { t -> (Float, Float) in
                let h = a + bend * t
                return (p0.0 + cos(h) * len * t, p0.1 + sin(h) * len * t)
            }
            img.paint(img.strokePatch(pts, thickness: max(1, s * rng.uniform(0.004, 0.008))), [0.12, 0.08, 0.06], opacity: 0.9)
        }
    }
}
