import Foundation
import Imaging
import Tensor

/// Apical four-chamber echocardiogram: a fan-shaped sector from a transducer at the top, speckle
/// everywhere, dark (anechoic) blood pools in the four chambers, brighter myocardium and septum,
/// valve leaflets, depth attenuation. Following echo convention the left ventricle is on the
/// image right. A small apical thrombus appears in about a fifth of the frames.
public struct UltrasoundPhantom: PhantomRenderer {
    public let modality = "Ultrasound"
    public let hierarchy: [String: String]
    public init(hierarchy: [String: String]) { self.hierarchy = hierarchy }

    /// The heart's frame: centre, scale (pixels per unit) and tilt.
    struct Heart {
        var cx, cy, k, angle: Float
        func at(_ u: Float, _ v: Float) -> (Float, Float) {
            (cx + k * (u * cos(angle) - v * sin(angle)), cy + k * (u * sin(angle) + v * cos(angle)))
        }
    }

    public func render(size: Int, rng: RandomGenerator) -> Phantom {
        let s = Float(size)
        var img = Image(width: size, height: size, channels: 1, fill: 0)
        let (ax, ay, reach) = (s * 0.5, s * 0.04, s * rng.uniform(0.88, 0.94))
        let half = rng.uniform(0.68, 0.8)
        let sector = img.fieldCoverage { x, y in
            let (dx, dy) = (x - ax, y - ay), r = (dx * dx + dy * dy).squareRoot()
            return max(r - reach, (abs(atan2(dx, dy)) - half) * r, s * 0.03 - r)
        }
        img.paint(sector, [0.22])
        img.modulate(smoothNoise(width: size, height: size, cell: max(2, size / 16), rng: rng), amount: 0.5)
        let heart = Heart(
            cx: s * (0.5 + rng.uniform(-0.04, 0.04)), cy: s * rng.uniform(0.5, 0.55),
            k: s * rng.uniform(0.9, 1.08), angle: rng.uniform(-0.15, 0.15))
        var regions = drawHeart(&img, heart, sector: mask(sector), rng)
        // Speckle, lateral smearing of the point-spread function, then attenuation with depth.
        img.blur(radius: max(1, size / 128))  // finite resolution: boundaries are never sharp
        img.addSpeckle(0.9, rng: rng)
        img.blur(radius: 1)
        img.addGrain(0.015, rng: rng)  // electronic noise: blood pools are dark, not empty
        let gain = rng.uniform(0.9, 1.2)
        for y in 0..<size {
            for x in 0..<size {
                let (dx, dy) = (Float(x) - ax, Float(y) - ay)
                let depth = (dx * dx + dy * dy).squareRoot() / reach
                img[0, y, x] = min(1, img[0, y, x] * gain * (1.15 - 0.55 * depth) * sector[y * size + x])
            }
        }
        drawDepthMarkers(&img, ax: ax, ay: ay, reach: reach, half: half, s)
        regions = regions.map { RegionMask(label: $0.label, inside: intersect($0.inside, mask(sector))) }
        return Phantom(image: img, regions: regions, modality: modality)
    }

    /// Myocardium hugging the four chambers (blood pools), septa between them, valves; an optional
    /// LV thrombus at the apex.
    func drawHeart(_ img: inout Image, _ h: Heart, sector: [Bool], _ rng: RandomGenerator) -> [RegionMask] {
        func ellipse(_ c: Chamber, grow: Float = 0) -> [Float] {
            let p = h.at(c.u, c.v)
            return img.ellipseCoverage(cx: p.0, cy: p.1, rx: (c.rx + grow) * h.k, ry: (c.ry + grow) * h.k, angle: h.angle + c.a)
        }
        let lvScale = rng.uniform(0.85, 1.15)
        let chambers = [
            Chamber(label: "left ventricle", u: 0.085, v: -0.08, rx: 0.075 * lvScale, ry: 0.2 * lvScale, a: -0.12),
            Chamber(label: "right ventricle", u: -0.1, v: -0.04, rx: 0.062, ry: 0.16, a: 0.22),
            Chamber(label: "left atrium", u: 0.085, v: 0.23, rx: 0.08 * rng.uniform(0.85, 1.2), ry: 0.075, a: 0),
            Chamber(label: "right atrium", u: -0.1, v: 0.23, rx: 0.07 * rng.uniform(0.85, 1.2), ry: 0.07, a: 0)
        ]
        let thickness = rng.uniform(0.03, 0.045)  // hypertrophy varies
        let wall = maxCoverage(chambers.map { ellipse($0, grow: thickness) })
        img.paint(maxCoverage(chambers.map { ellipse($0, grow: thickness + 0.012) }), [0.8], opacity: 0.35)  // bright pericardium
        img.paint(wall, [0.5])
        let pools = chambers.map { ellipse($0) }
        for cov in pools { img.paint(cov, [0.03]) }
        drawValves(&img, h, rng)
        var regions = [RegionMask(label: "heart", inside: mask(wall))]
        regions += zip(chambers, pools).map { RegionMask(label: $0.label, inside: mask($1)) }
        if rng.chance(0.2) {
            let r = rng.uniform(0.018, 0.03) * lvScale
            let c = h.at(0.085 + rng.uniform(-0.02, 0.02), -0.08 - 0.16 * lvScale)
            let cov = img.blobCoverage(cx: c.0, cy: c.1, radius: r * h.k, wobble: Wobble(rng: rng, harmonics: 3, amplitude: 0.2))
            img.paint(cov, [0.45])
            regions.append(RegionMask(label: "thrombus", inside: intersect(mask(cov), regions[1].inside)))
        }
        return regions
    }

    /// A chamber's blood pool as an ellipse in the heart's frame.
    struct Chamber { var label: String; var u, v, rx, ry, a: Float }

    /// Mitral and tricuspid leaflets: bright thin lines at the atrioventricular junction, open or closed.
    func drawValves(_ img: inout Image, _ h: Heart, _ rng: RandomGenerator) {
        let open = rng.chance(0.5)
        for (u, w) in [(Float(0.085), Float(0.07)), (-0.1, 0.06)] {
            for side in [Float(-1), 1] {
                let hinge = h.at(u + side * w, 0.13)
                let tip = open ? h.at(u + side * w * 0.5, 0.05) : h.at(u + side * w * 0.1, 0.12)
                img.paint(img.polylineCoverage([hinge, tip], thickness: max(1.2, h.k * 0.008)), [0.8])
            }
        }
    }

    /// Depth scale dots along the sector's right edge, as scanners print them.
    func drawDepthMarkers(_ img: inout Image, ax: Float, ay: Float, reach: Float, half: Float, _ s: Float) {
        for i in 1...5 {
            let r = reach * Float(i) / 5.5, a = half + 0.03
            let (x, y) = (ax + r * sin(a), ay + r * cos(a))
            img.paint(img.ellipseCoverage(cx: x, cy: y, rx: max(1, s * 0.005), ry: max(1, s * 0.005)), [0.9])
        }
    }
}
