import Foundation
import Imaging
import Tensor

/// A region of a rendered phantom: which pixels belong to a named structure or finding.
public struct RegionMask: Sendable {
    public var label: String
    public var inside: [Bool]
    public init(label: String, inside: [Bool]) { self.label = label; self.inside = inside }
}

/// Drawing primitives for phantoms. Shapes are anti-aliased by coverage at their edge, values are
/// intensities in [0, 1] (one per channel), and every shape can also return its pixel mask so that
/// boxes come from what was drawn.
extension Image {
    /// Coverage in [0, 1] of a rotated ellipse at each pixel (1 inside, a one-pixel soft edge).
    public func ellipseCoverage(cx: Float, cy: Float, rx: Float, ry: Float, angle: Float = 0) -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        let (c, s) = (cos(angle), sin(angle))
        let reach = max(rx, ry) + 2
        let x0 = max(0, Int(cx - reach)), x1 = min(width - 1, Int(cx + reach)), y0 = max(0, Int(cy - reach)), y1 = min(height - 1, Int(cy + reach))
        guard x0 <= x1, y0 <= y1, rx > 0, ry > 0 else { return out }
        for y in y0...y1 {
            for x in x0...x1 {
                let dx = Float(x) + 0.5 - cx, dy = Float(y) + 0.5 - cy
                let u = (dx * c + dy * s) / rx, v = (-dx * s + dy * c) / ry
                let r = (u * u + v * v).squareRoot()
                // Distance to the edge in pixels, approximately (r - 1) * radius along this direction.
                let edge = (r - 1) * min(rx, ry)
                out[y * width + x] = min(1, max(0, 0.5 - edge))
            }
        }
        return out
    }

    /// Coverage of a thick polyline (capsule segments), e.g. a rib, a tube, a pneumothorax line.
    public func polylineCoverage(_ points: [(Float, Float)], thickness: Float) -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        let r = thickness / 2
        for (a, b) in zip(points, points.dropFirst()) {
            let x0 = max(0, Int(min(a.0, b.0) - r - 2)), x1 = min(width - 1, Int(max(a.0, b.0) + r + 2))
            let y0 = max(0, Int(min(a.1, b.1) - r - 2)), y1 = min(height - 1, Int(max(a.1, b.1) + r + 2))
            guard x0 <= x1, y0 <= y1 else { continue }
            let (vx, vy) = (b.0 - a.0, b.1 - a.1)
            let len2 = max(vx * vx + vy * vy, 1e-6)
            for y in y0...y1 {
                for x in x0...x1 {
                    let (px, py) = (Float(x) + 0.5 - a.0, Float(y) + 0.5 - a.1)
                    let t = min(1, max(0, (px * vx + py * vy) / len2))
                    let (dx, dy) = (px - t * vx, py - t * vy)
                    let cov = min(1, max(0, r + 0.5 - (dx * dx + dy * dy).squareRoot()))
                    out[y * width + x] = max(out[y * width + x], cov)
                }
            }
        }
        return out
    }

    /// Blends `value` (per channel) into the image with the given coverage and opacity.
    public mutating func paint(_ coverage: [Float], _ value: [Float], opacity: Float = 1) {
        for i in 0..<(width * height) where coverage[i] > 0 {
            let a = coverage[i] * opacity
            for ch in 0..<channels {
                let k = ch * width * height + i
                pixels[k] = pixels[k] * (1 - a) + value[min(ch, value.count - 1)] * a
            }
        }
    }

    /// Adds `delta` (per channel) scaled by coverage: densities accumulate as on a radiograph.
    public mutating func add(_ coverage: [Float], _ delta: [Float]) {
        for i in 0..<(width * height) where coverage[i] > 0 {
            for ch in 0..<channels { pixels[ch * width * height + i] += delta[min(ch, delta.count - 1)] * coverage[i] }
        }
    }

    /// Gaussian noise of standard deviation `sigma`, then clamps to [0, 1].
    public mutating func addNoise(_ sigma: Float, rng: RandomGenerator) {
        for i in pixels.indices { pixels[i] = min(1, max(0, pixels[i] + sigma * rng.normal())) }
    }

    /// Multiplicative speckle (ultrasound): each pixel scaled by a Rayleigh-like factor.
    public mutating func addSpeckle(_ strength: Float, rng: RandomGenerator) {
        for i in pixels.indices {
            let (a, b) = (rng.normal(), rng.normal())
            let factor = (a * a + b * b).squareRoot() / 1.2533  // mean of a Rayleigh(1) variable is 1.2533
            pixels[i] = min(1, max(0, pixels[i] * (1 - strength + strength * factor)))
        }
    }

    /// Separable box blur of the given radius (repeated twice it approximates a Gaussian).
    public mutating func blur(radius: Int) {
        guard radius > 0 else { return }
        let plane = width * height
        var tmp = [Float](repeating: 0, count: plane)
        for ch in 0..<channels {
            let base = ch * plane
            for y in 0..<height {
                var acc: Float = 0, n: Float = 0
                for x in 0..<min(width, radius) { acc += pixels[base + y * width + x]; n += 1 }
                for x in 0..<width {
                    if x + radius < width { acc += pixels[base + y * width + x + radius]; n += 1 }
                    if x - radius - 1 >= 0 { acc -= pixels[base + y * width + x - radius - 1]; n -= 1 }
                    tmp[y * width + x] = acc / n
                }
            }
            for x in 0..<width {
                var acc: Float = 0, n: Float = 0
                for y in 0..<min(height, radius) { acc += tmp[y * width + x]; n += 1 }
                for y in 0..<height {
                    if y + radius < height { acc += tmp[(y + radius) * width + x]; n += 1 }
                    if y - radius - 1 >= 0 { acc -= tmp[(y - radius - 1) * width + x]; n -= 1 }
                    pixels[base + y * width + x] = acc / n
                }
            }
        }
    }

    public mutating func clamp() { for i in pixels.indices { pixels[i] = min(1, max(0, pixels[i])) } }
}

/// Pixels with more than half coverage.
public func mask(_ coverage: [Float]) -> [Bool] { coverage.map { $0 > 0.5 } }

/// Pixelwise AND of a mask with another (e.g. a finding clipped to its lung).
public func intersect(_ a: [Bool], _ b: [Bool]) -> [Bool] { zip(a, b).map { $0 && $1 } }
