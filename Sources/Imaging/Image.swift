import Tensor

/// A decoded image: float pixels in [0, 1], planar (channel, row, column), 1 (gray) or 3 (RGB) channels.
public struct Image: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        precondition(channels == 1 || channels == 3, "images are gray (1 channel) or RGB (3), got \(channels)")
        precondition(pixels.count == width * height * channels, "pixel count does not match \(width)x\(height)x\(channels)")
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }

    public init(width: Int, height: Int, channels: Int, fill: Float = 0) {
        self.init(
            width: width, height: height, channels: channels,
            pixels: [Float](repeating: fill, count: width * height * channels))
    }

    @inline(__always)
    public subscript(c: Int, y: Int, x: Int) -> Float {
        get { pixels[(c * height + y) * width + x] }
        set { pixels[(c * height + y) * width + x] = newValue }
    }

    /// Luma (ITU-R BT.601 weights) for RGB; the image itself when already gray.
    public func grayscale() -> Image {
        guard channels == 3 else { return self }
        let n = width * height
        return Image(
            width: width, height: height, channels: 1,
            pixels: (0..<n).map { 0.299 * pixels[$0] + 0.587 * pixels[n + $0] + 0.114 * pixels[2 * n + $0] })
    }

    /// The gray image repeated into three channels; the image itself when already RGB.
    public func rgb() -> Image {
        guard channels == 1 else { return self }
        return Image(width: width, height: height, channels: 3, pixels: pixels + pixels + pixels)
    }

    /// `[1, C, H, W]` tensor, optionally normalised per channel: (x - mean) / std.
    public func tensor(mean: [Float]? = nil, std: [Float]? = nil) -> Tensor {
        Tensor(shape: [1, channels, height, width], data: normalized(mean: mean, std: std).pixels)
    }

    /// (x - mean[c]) / std[c] per channel (one value applies to every channel).
    public func normalized(mean: [Float]?, std: [Float]?) -> Image {
        guard mean != nil || std != nil else { return self }
        var out = self
        let plane = width * height
        for c in 0..<channels {
            let m = mean.map { $0.count == 1 ? $0[0] : $0[c] } ?? 0
            let s = std.map { $0.count == 1 ? $0[0] : $0[c] } ?? 1
            for i in 0..<plane { out.pixels[c * plane + i] = (pixels[c * plane + i] - m) / s }
        }
        return out
    }
}

/// Stacks same-sized images into one `[N, C, H, W]` batch.
public func batchTensor(_ images: [Image], mean: [Float]? = nil, std: [Float]? = nil) -> Tensor {
    precondition(!images.isEmpty, "cannot batch zero images")
    let first = images[0]
    precondition(
        images.allSatisfy { $0.width == first.width && $0.height == first.height && $0.channels == first.channels },
        "images in a batch must share size and channels")
    return Tensor(
        shape: [images.count, first.channels, first.height, first.width],
        data: images.flatMap { $0.normalized(mean: mean, std: std).pixels })
}
