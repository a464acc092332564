import Foundation
import Imaging
import Tensor

/// Shapes and textures the modality phantoms share beyond the canvas primitives: irregular blobs
/// (lesions, tumours, skin lesions), smooth random fields (tissue texture) and mask algebra.
extension Image {
    /// Coverage of a star-shaped blob whose radius varies with angle, r(θ) = radius * (1 + wobble(θ)):
    /// the irregular outline of a lesion, tumour or oedema. `softness` widens the edge ramp (pixels)
    /// for shades that fade into their surroundings; coverage is 0.5 on the outline whatever it is.
    public func blobCoverage(cx: Float, cy: Float, radius: Float, wobble: Wobble = Wobble(), softness: Float = 1) -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        let soft = max(1, softness)
        let reach = radius * (1 + wobble.maxAmplitude) + soft / 2 + 2
        let x0 = max(0, Int(cx - reach)), x1 = min(width - 1, Int(cx + reach))
        let y0 = max(0, Int(cy - reach)), y1 = min(height - 1, Int(cy + reach))
        guard x0 <= x1, y0 <= y1, radius > 0 else { return out }
        for y in y0...y1 {
            for x in x0...x1 {
                let dx = Float(x) + 0.5 - cx, dy = Float(y) + 0.5 - cy
                let d = (dx * dx + dy * dy).squareRoot(), inv = d > 1e-6 ? 1 / d : 0
                let edge = d - radius * (1 + wobble.at(cos: d > 1e-6 ? dx * inv : 1, sin: dy * inv))
                out[y * width + x] = min(1, max(0, 0.5 - edge / soft))
            }
        }
        return out
    }

    /// Coverage of the region where `signedDistance(x, y)` (pixels, negative inside) is below zero,
    /// for shapes with no closed form among the primitives (half-planes, sectors, rings).
    public func fieldCoverage(_ signedDistance: (Float, Float) -> Float) -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                out[y * width + x] = min(1, max(0, 0.5 - signedDistance(Float(x) + 0.5, Float(y) + 0.5)))
            }
        }
        return out
    }

    /// Multiplies every channel by (1 + amount * field): texture that keeps structures' contrast.
    public mutating func modulate(_ field: [Float], amount: Float) {
        let plane = width * height
        for ch in 0..<channels {
            for i in 0..<plane {
                pixels[ch * plane + i] *= 1 + amount * field[i]
            }
        }
    }
}

/// Angular perturbation of a blob outline: a few random low harmonics, so borders are irregular
/// but still smooth (a skin lesion's notches, a tumour's lobules). Evaluated from the direction's
/// cosine and sine by the angle-addition recurrence: no trigonometric call per pixel.
public struct Wobble: Sendable {
    /// Harmonic k = 2, 3, ...: value = Σ cosine[i] cos(kθ) + sine[i] sin(kθ).
    var cosine: [Float] = [], sine: [Float] = []
    public init() {}
    public init(rng: RandomGenerator, harmonics: Int, amplitude: Float) {
        for k in 2..<(2 + harmonics) {
            let a = amplitude * rng.uniform(0.3, 1) / Float(k - 1).squareRoot(), phase = rng.uniform(0, 2 * .pi)
            cosine.append(a * cos(phase)); sine.append(-a * sin(phase))
        }
    }
    public var maxAmplitude: Float { zip(cosine, sine).reduce(0) { $0 + ($1.0 * $1.0 + $1.1 * $1.1).squareRoot() } }
    public func callAsFunction(_ theta: Float) -> Float { at(cos: cos(theta), sin: sin(theta)) }
    /// The perturbation in the direction (c, s), a unit vector.
    @inline(__always) public func at(cos c: Float, sin s: Float) -> Float {
        guard !cosine.isEmpty else { return 0 }
        var (ck, sk) = (c * c - s * s, 2 * s * c)  // k = 2
        var sum: Float = 0
        for i in cosine.indices {
            sum += cosine[i] * ck + sine[i] * sk
            (ck, sk) = (ck * c - sk * s, sk * c + ck * s)
        }
        return sum
    }
}

/// Smooth value noise in about [-1, 1]: random values on a grid of `cell`-pixel spacing, bilinearly
/// interpolated (smoothstep weights). Tissue texture, illumination unevenness, pigment variation.
public func smoothNoise(width: Int, height: Int, cell: Int, rng: RandomGenerator) -> [Float] {
    let gw = width / max(1, cell) + 2, gh = height / max(1, cell) + 2
    let grid = (0..<(gw * gh)).map { _ in rng.uniform(-1, 1) }
    var out = [Float](repeating: 0, count: width * height)
    let inv = 1 / Float(max(1, cell))
    for y in 0..<height {
        let fy = Float(y) * inv, gy = Int(fy), ty = smooth(fy - Float(gy))
        for x in 0..<width {
            let fx = Float(x) * inv, gx = Int(fx), tx = smooth(fx - Float(gx))
            let a = grid[gy * gw + gx], b = grid[gy * gw + gx + 1]
            let c = grid[(gy + 1) * gw + gx], d = grid[(gy + 1) * gw + gx + 1]
            out[y * width + x] = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty
        }
    }
    return out
}

/// Several octaves of `smoothNoise`, halving the cell and the weight each time.
public func fractalNoise(width: Int, height: Int, cell: Int, octaves: Int, rng: RandomGenerator) -> [Float] {
    var out = [Float](repeating: 0, count: width * height)
    var (c, w) = (cell, Float(1)), total: Float = 0
    for _ in 0..<octaves where c >= 1 {
        let n = smoothNoise(width: width, height: height, cell: c, rng: rng)
        for i in out.indices { out[i] += w * n[i] }
        total += w; c /= 2; w /= 2
    }
    return out.map { $0 / max(total, 1e-6) }
}

@inline(__always) func smooth(_ t: Float) -> Float { t * t * (3 - 2 * t) }

/// Pixelwise OR of masks.
public func union(_ masks: [Bool]...) -> [Bool] { union(masks) }
public func union(_ masks: [[Bool]]) -> [Bool] {
    guard var out = masks.first else { return [] }
    for m in masks.dropFirst() { for i in out.indices where m[i] { out[i] = true } }
    return out
}

/// Pixels of `a` not in `b` (oedema around, not under, its tumour).
public func subtract(_ a: [Bool], _ b: [Bool]) -> [Bool] { zip(a, b).map { $0 && !$1 } }

/// Pointwise maximum of coverages (a shape drawn from several overlapping pieces).
public func maxCoverage(_ parts: [[Float]]) -> [Float] {
    guard var out = parts.first else { return [] }
    for p in parts.dropFirst() { for i in out.indices where p[i] > out[i] { out[i] = p[i] } }
    return out
}

extension RandomGenerator {
    /// True with probability `p`.
    public func chance(_ p: Float) -> Bool { uniform() < p }
    /// Uniform integer in `low...high`.
    public func int(_ low: Int, _ high: Int) -> Int { low + int(high - low + 1) }
}

extension Image {
    /// Additive grain of standard deviation `sigma`, then clamps to [0, 1]. Approximately Gaussian
    /// (sum of four uniforms from one 64-bit draw): several times cheaper than Box-Muller per pixel,
    /// and acquisition noise need not be exactly normal.
    public mutating func addGrain(_ sigma: Float, rng: RandomGenerator) {
        let scale = sigma * Float(3).squareRoot() / 65536  // sum of four 16-bit uniforms: mean 131070, sd 65536 / √3
        for i in pixels.indices {
            let r = rng.next()
            let sum = Int(r & 0xFFFF) + Int((r >> 16) & 0xFFFF) + Int((r >> 32) & 0xFFFF) + Int(r >> 48) - 131_070
            pixels[i] = min(1, max(0, pixels[i] + Float(sum) * scale))
        }
    }
}
