import Foundation
import Tensor

/// Reading and writing images by file, with the format taken from the file's signature.
public enum ImageIO {
    public static func read(_ url: URL) throws -> Image {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw ImageError(path: path, reason: "no such file") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw ImageError(path: path, reason: "cannot be read") }
        guard !data.isEmpty else { throw ImageError(path: path, reason: "empty file") }
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try PNGCodec.decode(data, path: path) }
        if data.starts(with: [0xFF, 0xD8]) { return try JPEGCodec.decode(data, path: path) }
        throw ImageError(path: path, reason: "unsupported image format (neither PNG nor JPEG signature)")
    }

    /// Writes a PNG atomically (temporary file, then rename); `fast` compresses less, sooner.
    public static func writePNG(_ image: Image, to url: URL, sixteenBit: Bool = false, fast: Bool = false) throws {
        let data = try PNGCodec.encode(image, sixteenBit: sixteenBit, fast: fast, path: url.path)
        do { try writeAtomically(data, to: url) } catch {
            throw ImageError(path: url.path, reason: "cannot write: \(error)")
        }
    }

    /// Writes a JPEG atomically (temporary file, then rename); `quality` is libjpeg's 1...100.
    public static func writeJPEG(_ image: Image, to url: URL, quality: Int = 90) throws {
        let data = try JPEGCodec.encode(image, quality: quality, path: url.path)
        do { try writeAtomically(data, to: url) } catch {
            throw ImageError(path: url.path, reason: "cannot write: \(error)")
        }
    }
}

extension ImageIO {
    /// A label mask: one integer label per pixel. Gray PNGs give their values; colour (and palette)
    /// PNGs give `r << 16 | g << 8 | b`, so each colour is its own label.
    public static func readLabelMask(_ url: URL) throws -> (width: Int, height: Int, labels: [Int]) {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else { throw ImageError(path: path, reason: "no such file") }
        guard data.starts(with: [0x89, 0x50, 0x4E, 0x47]) else { throw ImageError(path: path, reason: "label masks must be PNG (lossless)") }
        let s = try PNGCodec.decodeSamples(data, path: path)
        let stride = s.channels + (s.alpha ? 1 : 0)
        let labels = (0..<(s.width * s.height)).map { i -> Int in
            let b = i * stride
            return s.channels == 1 ? Int(s.samples[b]) : Int(s.samples[b]) << 16 | Int(s.samples[b + 1]) << 8 | Int(s.samples[b + 2])
        }
        return (s.width, s.height, labels)
    }
}
