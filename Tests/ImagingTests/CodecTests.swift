import Foundation
import XCTest

@testable import Imaging

/// Decoders checked against the pixel values Pillow decodes from the same files
/// (Fixtures/make_fixtures.py wrote both).
final class CodecTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-img-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// Pillow's decoded values: `[row][col]` for gray, `[row][col][channel]` for colour.
    func expected(_ name: String) throws -> Any {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("expected.json")))
        return (json as! [String: Any])[name]!
    }

    func assertMatches(
        _ name: String, maxValue: Float, tolerance: Float, alphaComposite: Bool = false,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let image = try ImageIO.read(Self.fixtures.appendingPathComponent(name))
        let rows = try expected(name) as! [[Any]]
        XCTAssertEqual(image.height, rows.count, file: file, line: line)
        XCTAssertEqual(image.width, rows[0].count, file: file, line: line)
        var worst: Float = 0
        for (y, row) in rows.enumerated() {
            for (x, cell) in row.enumerated() {
                var values = (cell as? [Double])?.map { Float($0) } ?? [Float(cell as! Double)]
                if alphaComposite { let a = values.removeLast() / 255; values = values.map { $0 * a } }
                XCTAssertEqual(values.count, image.channels, name, file: file, line: line)
                for (c, v) in values.enumerated() { worst = max(worst, abs(image[c, y, x] - v / maxValue)) }
            }
        }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(name): largest difference to Pillow \(worst)", file: file, line: line)
    }

    func testPNGVariantsMatchPillowExactly() throws {
        try assertMatches("gray8.png", maxValue: 255, tolerance: 1e-6)
        try assertMatches("rgb8.png", maxValue: 255, tolerance: 1e-6)
        try assertMatches("palette.png", maxValue: 255, tolerance: 1e-6)
        try assertMatches("gray16.png", maxValue: 65535, tolerance: 1e-6)
        try assertMatches("rgba8.png", maxValue: 255, tolerance: 1e-6, alphaComposite: true)
    }

    func testJPEGBaselineAndProgressiveMatchPillow() throws {
        try assertMatches("color_baseline.jpg", maxValue: 255, tolerance: 2.0 / 255)
        try assertMatches("color_progressive.jpg", maxValue: 255, tolerance: 2.0 / 255)
        try assertMatches("gray_progressive.jpg", maxValue: 255, tolerance: 2.0 / 255)
        XCTAssertEqual(try ImageIO.read(Self.fixtures.appendingPathComponent("gray_progressive.jpg")).channels, 1)
    }

    func testPNGRoundTrip8And16Bit() throws {
        var image = Image(width: 9, height: 4, channels: 3)
        for i in image.pixels.indices { image.pixels[i] = Float(i % 256) / 255 }
        let url = tmp.appendingPathComponent("rt.png")
        try ImageIO.writePNG(image, to: url)
        XCTAssertEqual(try ImageIO.read(url), image)
        var deep = Image(width: 5, height: 3, channels: 1)
        for i in deep.pixels.indices { deep.pixels[i] = Float(i * 4099 % 65536) / 65535 }
        try ImageIO.writePNG(deep, to: url, sixteenBit: true)
        let back = try ImageIO.read(url)
        XCTAssertEqual(back.pixels.map { ($0 * 65535).rounded() }, deep.pixels.map { ($0 * 65535).rounded() })
    }

    func assertFails(_ url: URL, saying reason: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ImageIO.read(url), file: file, line: line) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.hasPrefix(url.path), "error names the file: \(text)", file: file, line: line)
            XCTAssertTrue(text.contains(reason), "error says '\(reason)': \(text)", file: file, line: line)
        }
    }

    func testBadFilesGiveClearErrors() throws {
        for name in ["rgb8.png", "color_baseline.jpg"] {
            let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
            let cut = tmp.appendingPathComponent("cut-" + name)
            try data.prefix(data.count * 2 / 3).write(to: cut)
            assertFails(cut, saying: name.hasSuffix("png") ? "corrupt or truncated PNG" : "truncated JPEG")
        }
        let text = tmp.appendingPathComponent("notes.png")
        try Data("hello".utf8).write(to: text)
        assertFails(text, saying: "unsupported image format")
        let empty = tmp.appendingPathComponent("empty.jpg")
        try Data().write(to: empty)
        assertFails(empty, saying: "empty file")
        assertFails(tmp.appendingPathComponent("absent.png"), saying: "no such file")
        var header = try Data(contentsOf: Self.fixtures.appendingPathComponent("gray8.png"))
        header[20] ^= 0xFF  // corrupt the IHDR width
        let bad = tmp.appendingPathComponent("badheader.png")
        try header.write(to: bad)
        assertFails(bad, saying: "PNG")
    }
}
