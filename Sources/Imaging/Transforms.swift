import Tensor

extension Image {
    /// Bilinear resize with pixel centres aligned as PIL and PyTorch (align_corners=false) do.
    /// Large reductions first average whole blocks of pixels, so that thin structures do not alias away.
    public func resized(width newW: Int, height newH: Int) -> Image {
        precondition(newW > 0 && newH > 0, "resize to an empty size")
        if newW == width && newH == height { return self }
        let fx = width / newW, fy = height / newH
        if fx >= 2 || fy >= 2 { return blockAveraged(max(fx, 1), max(fy, 1)).resized(width: newW, height: newH) }
        var out = Image(width: newW, height: newH, channels: channels)
        let sx = Float(width) / Float(newW), sy = Float(height) / Float(newH)
        let xs = (0..<newW).map { Image.sampleCoordinate($0, sx, width) }
        for y in 0..<newH {
            let (y0, y1, wy) = Image.sampleCoordinate(y, sy, height)
            for x in 0..<newW {
                let (x0, x1, wx) = xs[x]
                for c in 0..<channels {
                    let top = self[c, y0, x0] * (1 - wx) + self[c, y0, x1] * wx
                    let bottom = self[c, y1, x0] * (1 - wx) + self[c, y1, x1] * wx
                    out[c, y, x] = top * (1 - wy) + bottom * wy
                }
            }
        }
        return out
    }

    private static func sampleCoordinate(_ i: Int, _ scale: Float, _ size: Int) -> (Int, Int, Float) {
        let s = max(0, (Float(i) + 0.5) * scale - 0.5)
        let lo = min(Int(s), size - 1)
        return (lo, min(lo + 1, size - 1), s - Float(lo))
    }

    /// Averages `fx` x `fy` blocks (the last partial block averages what it has).
    private func blockAveraged(_ fx: Int, _ fy: Int) -> Image {
        let newW = (width + fx - 1) / fx, newH = (height + fy - 1) / fy
        var out = Image(width: newW, height: newH, channels: channels)
        for c in 0..<channels {
            for y in 0..<newH {
                for x in 0..<newW {
                    var s: Float = 0, n: Float = 0
                    for yy in (y * fy)..<min(height, (y + 1) * fy) { for xx in (x * fx)..<min(width, (x + 1) * fx) { s += self[c, yy, xx]; n += 1 } }
                    out[c, y, x] = s / n
                }
            }
        }
        return out
    }

    /// Resize keeping the aspect ratio so the image fits `size` x `size`, centred on a `fill`
    /// background. The returned transform maps original-image boxes onto the letterboxed image.
    public func letterboxed(to size: Int, fill: Float = 0) -> (Image, ImageTransform) {
        letterboxed(width: size, height: size, fill: fill)
    }

    public func letterboxed(width targetW: Int, height targetH: Int, fill: Float = 0) -> (Image, ImageTransform) {
        let scale = min(Float(targetW) / Float(width), Float(targetH) / Float(height))
        let newW = max(1, min(targetW, Int((Float(width) * scale).rounded())))
        let newH = max(1, min(targetH, Int((Float(height) * scale).rounded())))
        return placed(onCanvas: targetW, targetH, scale: scale, offsetX: (targetW - newW) / 2, offsetY: (targetH - newH) / 2, fill: fill)
    }

    /// Resize to exactly `newW` x `newH` and the transform boxes follow.
    public func resizedWithTransform(width newW: Int, height newH: Int) -> (Image, ImageTransform) {
        (
            resized(width: newW, height: newH),
            ImageTransform(scaleX: Float(newW) / Float(width), scaleY: Float(newH) / Float(height), offsetX: 0, offsetY: 0)
        )
    }

    /// The region `x..<x+w`, `y..<y+h` (must lie inside the image) and the transform boxes follow.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> (Image, ImageTransform) {
        precondition(
            x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height,
            "crop (\(x), \(y), \(w)x\(h)) outside a \(width)x\(height) image")
        var out = Image(width: w, height: h, channels: channels)
        for c in 0..<channels { for yy in 0..<h { for xx in 0..<w { out[c, yy, xx] = self[c, y + yy, x + xx] } } }
        return (out, ImageTransform(scaleX: 1, scaleY: 1, offsetX: Float(-x), offsetY: Float(-y)))
    }

    /// Mirror left-right; boxes mirror with it.
    public func flippedHorizontally(boxes: [Box] = []) -> (Image, [Box]) {
        var out = self
        for c in 0..<channels { for y in 0..<height { for x in 0..<width { out[c, y, x] = self[c, y, width - 1 - x] } } }
        let w = Float(width)
        return (out, boxes.map { Box(x1: w - $0.x2, y1: $0.y1, x2: w - $0.x1, y2: $0.y2) })
    }

    /// Random brightness shift and contrast scale around the mean (an X-ray's exposure varies),
    /// clamped to [0, 1].
    public func jittered(brightness: Float, contrast: Float, rng: RandomGenerator) -> Image {
        let shift = rng.uniform(-brightness, brightness), scale = 1 + rng.uniform(-contrast, contrast)
        let mean = pixels.reduce(0, +) / Float(max(pixels.count, 1))
        var out = self
        for i in pixels.indices { out.pixels[i] = min(max((pixels[i] - mean) * scale + mean + shift, 0), 1) }
        return out
    }
}

extension Image {
    /// Mirror top-bottom; boxes mirror with it.
    public func flippedVertically(boxes: [Box] = []) -> (Image, [Box]) {
        var out = self
        for c in 0..<channels { for y in 0..<height { for x in 0..<width { out[c, y, x] = self[c, height - 1 - y, x] } } }
        let h = Float(height)
        return (out, boxes.map { Box(x1: $0.x1, y1: h - $0.y2, x2: $0.x2, y2: h - $0.y1) })
    }

    /// This image resized by `scale` and placed with its top-left corner at (`offsetX`, `offsetY`) on
    /// a `width` x `height` canvas of `fill` (what falls outside is cropped); the transform maps
    /// this image's boxes onto the canvas. A letterbox is the centred, fitting case.
    public func placed(onCanvas width: Int, _ height: Int, scale: Float, offsetX: Int, offsetY: Int, fill: Float = 0) -> (Image, ImageTransform) {
        let newW = max(1, Int((Float(self.width) * scale).rounded())), newH = max(1, Int((Float(self.height) * scale).rounded()))
        let inner = resized(width: newW, height: newH)
        var out = Image(width: width, height: height, channels: channels, fill: fill)
        let x0 = max(0, offsetX), x1 = min(width, offsetX + newW), y0 = max(0, offsetY), y1 = min(height, offsetY + newH)
        if x0 < x1 && y0 < y1 {
            for c in 0..<channels { for y in y0..<y1 { for x in x0..<x1 { out[c, y, x] = inner[c, y - offsetY, x - offsetX] } } }
        }
        let transform = ImageTransform(
            scaleX: Float(newW) / Float(self.width), scaleY: Float(newH) / Float(self.height), offsetX: Float(offsetX), offsetY: Float(offsetY))
        return (out, transform)
    }
}
