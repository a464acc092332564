import CPNG
import Foundation

/// PNG through libpng's simplified API (which reports errors instead of longjmp-ing, so a corrupt
/// file becomes a Swift error). Every PNG colour type and bit depth is read: palette images are
/// expanded, 16-bit samples keep their full precision, alpha is composited over black.
public enum PNGCodec {
    public static func decode(_ data: Data, path: String) throws -> Image {
        let raw = try decodeSamples(data, path: path)
        let (w, h) = (raw.width, raw.height)
        let samples = raw.channels + (raw.alpha ? 1 : 0)
        var pixels = [Float](repeating: 0, count: w * h * raw.channels)
        for y in 0..<h {
            for x in 0..<w {
                let base = (y * w + x) * samples
                let a: Float = raw.alpha ? Float(raw.samples[base + samples - 1]) / raw.maxValue : 1
                for c in 0..<raw.channels { pixels[(c * h + y) * w + x] = Float(raw.samples[base + c]) / raw.maxValue * a }
            }
        }
        return Image(width: w, height: h, channels: raw.channels, pixels: pixels)
    }

    /// Integer samples as stored (palette expanded to RGB), interleaved, alpha last when present.
    /// Label masks need these exact values rather than intensities.
    public struct Samples {
        public let width, height, channels: Int
        public let alpha: Bool
        public let maxValue: Float
        public let samples: [UInt16]
    }

    public static func decodeSamples(_ data: Data, path: String) throws -> Samples {
        var img = png_image()
        img.version = png_uint_32(PNG_IMAGE_VERSION)
        defer { png_image_free(&img) }
        let began = data.withUnsafeBytes { png_image_begin_read_from_memory(&img, $0.baseAddress, $0.count) }
        guard began != 0 else { throw ImageError(path: path, reason: "not a readable PNG (\(message(&img)))") }
        let source = img.format
        let color = source & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
        let alpha = source & png_uint_32(PNG_FORMAT_FLAG_ALPHA) != 0
        let wide = source & png_uint_32(PNG_FORMAT_FLAG_LINEAR) != 0  // 16-bit samples in the file
        // 16-bit data is read as "linear" and 8-bit as-is: libpng then applies no gamma conversion.
        img.format =
            (color ? png_uint_32(PNG_FORMAT_FLAG_COLOR) : 0) | (alpha ? png_uint_32(PNG_FORMAT_FLAG_ALPHA) : 0)
            | (wide ? png_uint_32(PNG_FORMAT_FLAG_LINEAR) : 0)
        let (w, h) = (Int(img.width), Int(img.height))
        guard w > 0, h > 0, w * h <= 1 << 28 else { throw ImageError(path: path, reason: "unsupported PNG size \(w)x\(h)") }
        let count = w * h * ((color ? 3 : 1) + (alpha ? 1 : 0))
        var samples: [UInt16]
        if wide {
            samples = [UInt16](repeating: 0, count: count)
            let ok = samples.withUnsafeMutableBytes { png_image_finish_read(&img, nil, $0.baseAddress, 0, nil) }
            guard ok != 0 else { throw ImageError(path: path, reason: "corrupt or truncated PNG (\(message(&img)))") }
        } else {
            var bytes = [UInt8](repeating: 0, count: count)
            let ok = bytes.withUnsafeMutableBytes { png_image_finish_read(&img, nil, $0.baseAddress, 0, nil) }
            guard ok != 0 else { throw ImageError(path: path, reason: "corrupt or truncated PNG (\(message(&img)))") }
            samples = bytes.map(UInt16.init)
        }
        return Samples(width: w, height: h, channels: color ? 3 : 1, alpha: alpha, maxValue: wide ? 65535 : 255, samples: samples)
    }

    /// Encodes as an 8-bit (or 16-bit) gray or RGB PNG; values are clamped to [0, 1]. `fast` trades
    /// file size for speed (bulk synthetic corpora).
    public static func encode(_ image: Image, sixteenBit: Bool = false, fast: Bool = false, path: String = "<memory>") throws -> Data {
        var img = png_image()
        img.version = png_uint_32(PNG_IMAGE_VERSION)
        img.width = png_uint_32(image.width); img.height = png_uint_32(image.height)
        img.format = (image.channels == 3 ? png_uint_32(PNG_FORMAT_FLAG_COLOR) : 0) | (sixteenBit ? png_uint_32(PNG_FORMAT_FLAG_LINEAR) : 0)
        if fast { img.flags = png_uint_32(PNG_IMAGE_FLAG_FAST) }  // quicker deflate, larger files
        defer { png_image_free(&img) }
        let (w, h, c) = (image.width, image.height, image.channels)
        func interleaved<T: BinaryInteger>(_ maxValue: Float, _: T.Type) -> [T] {
            var out = [T](repeating: 0, count: w * h * c)
            for y in 0..<h {
                for x in 0..<w {
                    for ch in 0..<c {
                        out[(y * w + x) * c + ch] = T((min(max(image[ch, y, x], 0), 1) * maxValue).rounded())
                    }
                }
            }
            return out
        }
        var size = 0
        var out = Data()
        func write(_ raw: UnsafeRawPointer) throws {
            // One pass into a buffer above the worst case (stored deflate blocks plus chunk and
            // header overhead); asking libpng for the size first would compress everything twice.
            let rawBytes = w * h * c * (sixteenBit ? 2 : 1) + h
            size = rawBytes + rawBytes / 64 + 4096
            out = Data(count: size)
            let ok = out.withUnsafeMutableBytes { png_image_write_to_memory(&img, $0.baseAddress, &size, 0, raw, 0, nil) }
            guard ok != 0 else { throw ImageError(path: path, reason: "PNG encoding failed (\(message(&img)))") }
            out.count = size
        }
        if sixteenBit {
            try interleaved(65535, UInt16.self).withUnsafeBytes { try write($0.baseAddress!) }
        } else {
            try interleaved(255, UInt8.self).withUnsafeBytes { try write($0.baseAddress!) }
        }
        return out
    }

    private static func message(_ img: inout png_image) -> String {
        withUnsafeBytes(of: &img.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
