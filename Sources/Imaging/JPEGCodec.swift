import CTurboJPEG
import Foundation

/// JPEG decoding through libjpeg-turbo's TurboJPEG API: baseline and progressive, gray and colour
/// (colour decodes to RGB, gray stays one channel).
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
                tjDecompress2(handle, src.bindMemory(to: UInt8.self).baseAddress, UInt(src.count), dst.baseAddress,
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
        for y in 0..<ih { for x in 0..<iw { for c in 0..<channels {
            pixels[(c * ih + y) * iw + x] = Float(raw[(y * iw + x) * channels + c]) / 255
        } } }
        return Image(width: iw, height: ih, channels: channels, pixels: pixels)
    }

    private static func errorText(_ handle: tjhandle) -> String { String(cString: tjGetErrorStr2(handle)) }
}
