import Foundation
import XCTest

@testable import Imaging

/// The TurboJPEG encoder: what it writes reads back close to the original, in the same layout.
final class JPEGEncoderTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-jpeg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// Smooth gradients plus a bright disc: JPEG's typical content, without noise it cannot keep.
    func pattern(channels: Int, width: Int = 48, height: Int = 40) -> Image {
        var img = Image(width: width, height: height, channels: channels)
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    let dx = Float(x - 20), dy = Float(y - 18)
                    let disc: Float = dx * dx + dy * dy < 64 ? 0.4 : 0
                    img[c, y, x] = min(1, 0.1 + 0.5 * Float(x) / Float(width) + 0.3 * Float(y) / Float(height) * Float(c + 1) / 3 + disc)
                }
            }
        }
        return img
    }

    func meanAbsoluteError(_ a: Image, _ b: Image) -> Float {
        zip(a.pixels, b.pixels).reduce(0) { $0 + abs($1.0 - $1.1) } / Float(a.pixels.count)
    }

    func testGrayRoundTripStaysOneChannelAndClose() throws {
        let img = pattern(channels: 1)
        let url = tmp.appendingPathComponent("gray.jpg")
        try ImageIO.writeJPEG(img, to: url, quality: 95)
        let back = try ImageIO.read(url)
        XCTAssertEqual(back.channels, 1)
        XCTAssertEqual([back.width, back.height], [img.width, img.height])
        XCTAssertLessThan(meanAbsoluteError(img, back), 0.01)
        XCTAssertLessThan(zip(img.pixels, back.pixels).map { abs($0 - $1) }.max()!, 0.12)
    }

    func testRGBRoundTripIsClose() throws {
        let img = pattern(channels: 3)
        let url = tmp.appendingPathComponent("rgb.jpg")
        try ImageIO.writeJPEG(img, to: url, quality: 95)
        let back = try ImageIO.read(url)
        XCTAssertEqual(back.channels, 3)
        XCTAssertLessThan(meanAbsoluteError(img, back), 0.015)
    }

    func testLowerQualityGivesSmallerFilesAndLargerError() throws {
        let img = pattern(channels: 1, width: 96, height: 96)
        let high = try JPEGCodec.encode(img, quality: 95), low = try JPEGCodec.encode(img, quality: 20)
        XCTAssertLessThan(low.count, high.count)
        let decode = { (d: Data) in try JPEGCodec.decode(d, path: "<memory>") }
        XCTAssertLessThan(meanAbsoluteError(img, try decode(high)), meanAbsoluteError(img, try decode(low)))
    }

    func testSameImageSameBytes() throws {
        let img = pattern(channels: 3)
        XCTAssertEqual(try JPEGCodec.encode(img, quality: 80), try JPEGCodec.encode(img, quality: 80))
    }

    func testQualityOutOfRangeIsAnImageErrorNamingTheFile() throws {
        XCTAssertThrowsError(try ImageIO.writeJPEG(pattern(channels: 1), to: tmp.appendingPathComponent("bad.jpg"), quality: 0)) { error in
            let e = error as? ImageError
            XCTAssertNotNil(e)
            XCTAssertTrue(e?.path.hasSuffix("bad.jpg") ?? false)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("bad.jpg").path))
    }

    func testUnwritableFolderIsAnImageError() {
        let url = tmp.appendingPathComponent("missing/dir/x.jpg")
        XCTAssertThrowsError(try ImageIO.writeJPEG(pattern(channels: 1), to: url)) { XCTAssertTrue($0 is ImageError) }
    }
}
