import CTurboJPEG
import Foundation

/// JPEG through libjpeg-turbo's TurboJPEG API. Decoding: baseline and progressive, gray and colour
/// (colour decodes to RGB, gray stays one channel). Encoding: baseline, gray or RGB.
public enum JPEGCodec {
    public static func decode(_ data: Data, path: String) throws -> Image {
        guard let handle = tjInitDecompress() else { throw ImageError(path: path, reason: "cannot initialise the JPEG decoder") }
        defer { tjDestroy(handle) }
        var w: Int32 = 0, h: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = data.withUnsafeBytes { raw in
            tjDecompressHeader3(handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), &w, &h, &subsampling, &colorspace)
        }
        guard header == 0 else {
            let text = errorText(handle)
            throw ImageError(path: path, reason: text.contains("Premature end") ? "truncated JPEG (\(text))" : "not a readable JPEG (\(text))")
        }
        guard w > 0, h > 0, Int(w) * Int(h) <= 1 << 28 else { throw ImageError(path: path, reason: "unsupported JPEG size \(w)x\(h)") }
        let gray = colorspace == Int32(TJCS_GRAY.rawValue)
        let channels = gray ? 1 : 3
        var raw = [UInt8](repeating: 0, count: Int(w) * Int(h) * channels)
        let status = data.withUnsafeBytes { src in
            raw.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(
                    handle, src.bindMemory(to: UInt8.self).baseAddress, UInt(src.count), dst.baseAddress,
                    w, 0, h, gray ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue), 0)
            }
        }
        if status != 0 {
            let text = errorText(handle)
            // libjpeg reports some harmless quirks of real files as warnings; a cut-off file is not one.
            let fatal = tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) || text.contains("Premature end")
            if fatal { throw ImageError(path: path, reason: text.contains("Premature end") ? "truncated JPEG (\(text))" : "corrupt JPEG (\(text))") }
        }
        let (iw, ih) = (Int(w), Int(h))
        var pixels = [Float](repeating: 0, count: raw.count)
        for y in 0..<ih {
            for x in 0..<iw {
                for c in 0..<channels {
                    pixels[(c * ih + y) * iw + x] = Float(raw[(y * iw + x) * channels + c]) / 255
                }
            }
        }
        return Image(width: iw, height: ih, channels: channels, pixels: pixels)
    }

    /// Encodes as a baseline JPEG at `quality` (1...100): gray images as one-channel JPEGs, RGB
    /// with full-resolution chroma (4:4:4), since synthetic images carry thin coloured detail that
    /// 4:2:0 subsampling would smear. Values are clamped to [0, 1].
    public static func encode(_ image: Image, quality: Int = 90, path: String = "<memory>") throws -> Data {
        guard (1...100).contains(quality) else { throw ImageError(path: path, reason: "JPEG quality must be within 1...100, got \(quality)") }
        guard let handle = tjInitCompress() else { throw ImageError(path: path, reason: "cannot initialise the JPEG encoder") }
        defer { tjDestroy(handle) }
        let gray = image.channels == 1
        let raw = interleavedBytes(image)
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        defer { if let buffer { tjFree(buffer) } }
        let status = raw.withUnsafeBufferPointer { src in
            tjCompress2(
                handle, src.baseAddress, Int32(image.width), 0, Int32(image.height),
                gray ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue), &buffer, &size,
                gray ? Int32(TJSAMP_GRAY.rawValue) : Int32(TJSAMP_444.rawValue), Int32(quality), 0)
        }
        guard status == 0, let buffer else { throw ImageError(path: path, reason: "JPEG encoding failed (\(errorText(handle)))") }
        return Data(bytes: buffer, count: Int(size))
    }

    /// Planar floats to interleaved 8-bit samples, as TurboJPEG takes them.
    private static func interleavedBytes(_ image: Image) -> [UInt8] {
        let (w, h, c) = (image.width, image.height, image.channels)
        var out = [UInt8](repeating: 0, count: w * h * c)
        for ch in 0..<c {
            for y in 0..<h {
                for x in 0..<w {
                    out[(y * w + x) * c + ch] = UInt8((min(max(image[ch, y, x], 0), 1) * 255).rounded())
                }
            }
        }
        return out
    }

    private static func errorText(_ handle: tjhandle) -> String { String(cString: tjGetErrorStr2(handle)) }
}
