import Foundation
import Imaging
import Tensor

/// Colonoscopy frame: pink-orange mucosa lit by the scope (bright near the camera, falling to a
/// dark lumen), haustral folds as ridges with a bright crest and a shadow on the lumen side, fine
/// submucosal vessels, specular highlights, and in most frames one or two polyps (rounded, lit
/// bumps with their own highlight). The round optics leave the corners black.
public struct EndoscopyPhantom: PhantomRenderer {
    public let modality = "Endoscopy"
    public let hierarchy: [String: String]
    public init(hierarchy: [String: String]) { self.hierarchy = hierarchy }

    public func render(size: Int, rng: RandomGenerator) -> Phantom {
        let s = Float(size)
        var img = Image(width: size, height: size, channels: 3, fill: 0)
        let mucosa: [Float] = [rng.uniform(0.82, 0.92), rng.uniform(0.42, 0.55), rng.uniform(0.36, 0.46)]
        img.paint([Float](repeating: 1, count: size * size), mucosa)
        let lumen = (s * (0.5 + rng.uniform(-0.18, 0.18)), s * (0.5 + rng.uniform(-0.18, 0.18)))
        let lumenR = s * rng.uniform(0.05, 0.1)
        img.modulate(fractalNoise(width: size, height: size, cell: max(2, size / 8), octaves: 3, rng: rng), amount: 0.12)
        drawVessels(&img, s, rng)
        let crests = drawFolds(&img, lumen: lumen, lumenR: lumenR, s, rng)
        light(&img, lumen: lumen, s)
        let lumenWobble = Wobble(rng: rng, harmonics: 4, amplitude: 0.25)
        img.paint(
            img.blobCoverage(cx: lumen.0, cy: lumen.1, radius: lumenR * 1.7, wobble: lumenWobble, softness: lumenR * 0.8), [0.1, 0.03, 0.02],
            opacity: 0.45)
        let hole = img.blobCoverage(cx: lumen.0, cy: lumen.1, radius: lumenR, wobble: lumenWobble)
        img.paint(hole, [0.05, 0.015, 0.01])
        let fov = img.ellipseCoverage(cx: s / 2, cy: s / 2, rx: s * 0.56, ry: s * 0.56)
        var regions = [RegionMask(label: "colon", inside: mask(fov)), RegionMask(label: "lumen", inside: mask(hole))]
        if rng.chance(0.7) {
            for _ in 0..<rng.int(1, 2) {
                if let p = drawPolyp(&img, lumen: lumen, lumenR: lumenR, mucosa: mucosa, s, rng) {
                    regions.append(RegionMask(label: "polyp", inside: intersect(p, mask(fov))))
                }
            }
        }
        drawHighlights(&img, along: crests, s, rng)
        img.blur(radius: 1)
        img.addGrain(0.01, rng: rng)
        img.paint(fov.map { 1 - $0 }, [0])
        return Phantom(image: img, regions: regions, modality: modality)
    }

    /// The scope's light: bright on the near wall, dark towards the lumen, vignetted at the rim.
    func light(_ img: inout Image, lumen: (Float, Float), _ s: Float) {
        let n = img.width * img.height
        for y in 0..<img.height {
            for x in 0..<img.width {
                let (dx, dy) = (Float(x) - lumen.0, Float(y) - lumen.1)
                let near = min(1, (dx * dx + dy * dy).squareRoot() / (s * 0.55))
                let (cx, cy) = (Float(x) / s - 0.5, Float(y) / s - 0.5)
                let f = (0.25 + 0.85 * smooth(near)) * (1 - 0.5 * (cx * cx + cy * cy))
                for c in 0..<3 { img.pixels[c * n + y * img.width + x] *= f }
            }
        }
    }

    /// Thin, wandering submucosal vessels (dark red, faint).
    func drawVessels(_ img: inout Image, _ s: Float, _ rng: RandomGenerator) {
        for _ in 0..<rng.int(8, 16) {
            var p = (rng.uniform(0, s), rng.uniform(0, s)), heading = rng.uniform(0, 2 * .pi)
            var pts = [p]
            for _ in 0..<rng.int(4, 9) {
                heading += rng.uniform(-0.7, 0.7)
                p = (p.0 + cos(heading) * s * 0.04, p.1 + sin(heading) * s * 0.04)
                pts.append(p)
            }
            img.paint(img.strokePatch(pts, thickness: max(0.8, s * 0.005)), [0.55, 0.12, 0.12], opacity: 0.35)
        }
    }

    /// Haustral folds: partial rings around the lumen, spaced geometrically (perspective). Each is a
    /// shadow on the lumen side and a lit crest outside it, drawn into a shade field that is blurred
    /// (folds are soft ridges) and tapered at both ends. Returns points along the crests.
    func drawFolds(_ img: inout Image, lumen: (Float, Float), lumenR: Float, _ s: Float, _ rng: RandomGenerator) -> [(Float, Float)] {
        var shade = Image(width: img.width, height: img.height, channels: 1, fill: 0)
        var crests: [(Float, Float)] = []
        var radius = lumenR * rng.uniform(1.5, 1.9)
        for _ in 0..<rng.int(3, 5) {
            let start = rng.uniform(0, 2 * .pi), span = rng.uniform(2.5, 5.5), squash = rng.uniform(0.75, 1)
            let wobble = Wobble(rng: rng, harmonics: 3, amplitude: 0.12)
            let ts = Array(stride(from: start, through: start + span, by: 0.08))
            func point(_ t: Float, _ scale: Float) -> (Float, Float) {
                let r = radius * scale * (1 + wobble(t))
                return (lumen.0 + r * cos(t), lumen.1 + r * squash * sin(t))
            }
            let width = max(2, radius * 0.2)
            var (shadow, crest) = ([Float](repeating: 0, count: shade.pixels.count), [Float](repeating: 0, count: shade.pixels.count))
            for i in 0..<(ts.count - 1) {
                let taper = sin(Float.pi * Float(i) / Float(ts.count - 1))  // folds fade out at their ends
                let (a, b) = (ts[i], ts[i + 1])
                // Maximum, not sum, over segments: their round caps overlap at every joint.
                shade.strokePatch([point(a, 0.97), point(b, 0.97)], thickness: width).raise(&shadow, width: shade.width, scale: taper)
                shade.strokePatch([point(a, 1.04), point(b, 1.04)], thickness: width * 0.5).raise(&crest, width: shade.width, scale: taper)
            }
            shade.add(shadow, [-0.4])
            shade.add(crest, [0.3])
            crests += ts.map { point($0, 1.04) }
            radius *= rng.uniform(1.55, 1.9)
        }
        shade.blur(radius: max(1, Int(s / 100)))
        img.modulate(shade.pixels, amount: 1)
        return crests
    }

    /// A sessile polyp on the wall away from the lumen: shadow towards the lumen, lit body, a
    /// specular highlight. 5-16% of the width across. Returns its mask.
    func drawPolyp(
        _ img: inout Image, lumen: (Float, Float), lumenR: Float, mucosa: [Float], _ s: Float,
        _ rng: RandomGenerator
    ) -> [Bool]? {
        let r = s * rng.uniform(0.025, 0.08)
        let a = rng.uniform(0, 2 * .pi), d = rng.uniform(lumenR * 1.6 + r, s * 0.4)
        let (x, y) = (lumen.0 + d * cos(a), lumen.1 + d * sin(a))
        guard x > r, y > r, x < s - r, y < s - r else { return nil }
        let (ux, uy) = (cos(a), sin(a))  // away from the lumen, towards the light
        let wobble = Wobble(rng: rng, harmonics: 3, amplitude: 0.1)
        img.paint(img.blobCoverage(cx: x - ux * r * 0.25, cy: y - uy * r * 0.25, radius: r * 1.05, wobble: wobble), [0.2, 0.05, 0.04], opacity: 0.6)
        let body = img.blobCoverage(cx: x, cy: y, radius: r, wobble: wobble)
        let tint: [Float] = [min(1, mucosa[0] * 1.02), mucosa[1] * rng.uniform(0.85, 1.1), mucosa[2] * rng.uniform(0.85, 1.05)]
        img.paint(body, tint.map { $0 * 0.85 })
        img.paint(img.blobCoverage(cx: x + ux * r * 0.25, cy: y + uy * r * 0.25, radius: r * 0.6), tint.map { min(1, $0 * 1.12) }, opacity: 0.6)
        img.paint(
            img.ellipseCoverage(cx: x + ux * r * 0.4, cy: y + uy * r * 0.4, rx: max(1, r * 0.18), ry: max(1, r * 0.1), angle: a + 1.57), [1, 1, 1],
            opacity: 0.9)
        return mask(body)
    }

    /// Specular reflections of the scope's light on the wet mucosa, mostly on fold crests.
    func drawHighlights(_ img: inout Image, along crests: [(Float, Float)], _ s: Float, _ rng: RandomGenerator) {
        for _ in 0..<rng.int(8, 22) {
            let p = crests.isEmpty || rng.chance(0.25) ? (rng.uniform(0, s), rng.uniform(0, s)) : crests[rng.int(crests.count)]
            let r = s * rng.uniform(0.004, 0.013)
            img.paint(img.ellipsePatch(cx: p.0, cy: p.1, rx: r * 2.2, ry: r * 1.4, angle: rng.uniform(0, 3)), [1, 0.95, 0.92], opacity: 0.35)
            img.paint(img.ellipsePatch(cx: p.0, cy: p.1, rx: r * 1.5, ry: r * 0.8, angle: rng.uniform(0, 3)), [1, 1, 1])
        }
    }
}
