import Foundation
import Imaging

/// Coverage over a small rectangle of the image instead of a whole-image array: thin strokes
/// (vessels, hairs, folds, sulci) and specks come by the hundred, and allocating and scanning a
/// full-size array for each would dominate rendering time.
public struct Patch: Sendable {
    public var x0, y0, w, h: Int
    public var values: [Float]

    /// Raises `field` (a whole-image coverage, row length `width`) to at least `scale` x this patch.
    public func raise(_ field: inout [Float], width: Int, scale: Float = 1) {
        for y in 0..<h {
            for x in 0..<w {
                let v = values[y * w + x] * scale, k = (y0 + y) * width + x0 + x
                if v > field[k] { field[k] = v }
            }
        }
    }
}

extension Image {
    /// A thick polyline's coverage (capsule segments, maximum where they overlap) on its bounding box.
    public func strokePatch(_ points: [(Float, Float)], thickness: Float) -> Patch {
        let r = thickness / 2
        let xs = points.map(\.0), ys = points.map(\.1)
        let x0 = max(0, Int((xs.min() ?? 0) - r - 2)), x1 = min(width - 1, Int((xs.max() ?? 0) + r + 2))
        let y0 = max(0, Int((ys.min() ?? 0) - r - 2)), y1 = min(height - 1, Int((ys.max() ?? 0) + r + 2))
        guard x0 <= x1, y0 <= y1 else { return Patch(x0: 0, y0: 0, w: 0, h: 0, values: []) }
        var p = Patch(x0: x0, y0: y0, w: x1 - x0 + 1, h: y1 - y0 + 1, values: [Float](repeating: 0, count: (x1 - x0 + 1) * (y1 - y0 + 1)))
        for (a, b) in zip(points, points.dropFirst()) {
            let (vx, vy) = (b.0 - a.0, b.1 - a.1), len2 = max(vx * vx + vy * vy, 1e-6)
            let sx0 = max(x0, Int(min(a.0, b.0) - r - 2)), sx1 = min(x1, Int(max(a.0, b.0) + r + 2))
            let sy0 = max(y0, Int(min(a.1, b.1) - r - 2)), sy1 = min(y1, Int(max(a.1, b.1) + r + 2))
            guard sx0 <= sx1, sy0 <= sy1 else { continue }
            for y in sy0...sy1 {
                for x in sx0...sx1 {
                    let (px, py) = (Float(x) + 0.5 - a.0, Float(y) + 0.5 - a.1)
                    let t = min(1, max(0, (px * vx + py * vy) / len2))
                    let (dx, dy) = (px - t * vx, py - t * vy)
                    let cov = min(1, max(0, r + 0.5 - (dx * dx + dy * dy).squareRoot()))
                    let k = (y - y0) * p.w + x - x0
                    if cov > p.values[k] { p.values[k] = cov }
                }
            }
        }
        return p
    }

    /// A rotated ellipse's coverage on its bounding box (same edge as `ellipseCoverage`): specks,
    /// highlights, dots.
    public func ellipsePatch(cx: Float, cy: Float, rx: Float, ry: Float, angle: Float = 0) -> Patch {
        let reach = max(rx, ry) + 2
        let x0 = max(0, Int(cx - reach)), x1 = min(width - 1, Int(cx + reach))
        let y0 = max(0, Int(cy - reach)), y1 = min(height - 1, Int(cy + reach))
        guard x0 <= x1, y0 <= y1, rx > 0, ry > 0 else { return Patch(x0: 0, y0: 0, w: 0, h: 0, values: []) }
        let (c, s) = (cos(angle), sin(angle))
        var p = Patch(x0: x0, y0: y0, w: x1 - x0 + 1, h: y1 - y0 + 1, values: [Float](repeating: 0, count: (x1 - x0 + 1) * (y1 - y0 + 1)))
        for y in y0...y1 {
            for x in x0...x1 {
                let dx = Float(x) + 0.5 - cx, dy = Float(y) + 0.5 - cy
                let u = (dx * c + dy * s) / rx, v = (-dx * s + dy * c) / ry
                let edge = ((u * u + v * v).squareRoot() - 1) * min(rx, ry)
                p.values[(y - y0) * p.w + x - x0] = min(1, max(0, 0.5 - edge))
            }
        }
        return p
    }

    /// Blends `value` into the image under the patch, as `paint` does for whole-image coverage.
    public mutating func paint(_ p: Patch, _ value: [Float], opacity: Float = 1) {
        let plane = width * height
        for y in 0..<p.h {
            for x in 0..<p.w {
                let a = p.values[y * p.w + x] * opacity
                guard a > 0 else { continue }
                let i = (p.y0 + y) * width + p.x0 + x
                for ch in 0..<channels {
                    pixels[ch * plane + i] = pixels[ch * plane + i] * (1 - a) + value[min(ch, value.count - 1)] * a
                }
            }
        }
    }
}
