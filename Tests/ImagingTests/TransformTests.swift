import Foundation
import Tensor
import XCTest

@testable import Imaging

final class TransformTests: XCTestCase {
    func ramp(width: Int, height: Int) -> Image {
        var image = Image(width: width, height: height, channels: 1)
        for y in 0..<height { for x in 0..<width { image[0, y, x] = Float(x) / Float(width - 1) } }
        return image
    }

    func testBilinearResizeUsesHalfPixelCentres() {
        let two = Image(width: 2, height: 1, channels: 1, pixels: [0, 1])
        // Upsampling 2 -> 4 (align_corners=false): source positions -0.25, 0.25, 0.75, 1.25.
        XCTAssertEqual(two.resized(width: 4, height: 1).pixels, [0, 0.25, 0.75, 1])
        let flat = Image(width: 37, height: 23, channels: 3, fill: 0.4)
        XCTAssertTrue(flat.resized(width: 8, height: 5).pixels.allSatisfy { abs($0 - 0.4) < 1e-6 })
    }

    func testLargeReductionKeepsThinLines() {
        // A one-pixel line in a 400-pixel image must survive a reduction to 50 pixels.
        var image = Image(width: 400, height: 400, channels: 1)
        for y in 0..<400 { image[0, y, 203] = 1 }
        let small = image.resized(width: 50, height: 50)
        XCTAssertGreaterThan(small.pixels.max()!, 0.05)
        XCTAssertEqual(small.pixels.reduce(0, +) / Float(small.pixels.count), 1.0 / 400, accuracy: 2e-4, "mean intensity is preserved")
    }

    func testLetterboxTransformMapsBoxesBothWays() {
        let image = ramp(width: 200, height: 100)
        let (boxed, t) = image.letterboxed(to: 100)
        XCTAssertEqual(boxed.width, 100); XCTAssertEqual(boxed.height, 100)
        XCTAssertEqual(t, ImageTransform(scaleX: 0.5, scaleY: 0.5, offsetX: 0, offsetY: 25))
        let box = Box(x1: 20, y1: 10, x2: 60, y2: 90)
        XCTAssertEqual(t.apply(box), Box(x1: 10, y1: 30, x2: 30, y2: 70))
        XCTAssertEqual(t.invert(t.apply(box)), box)
        XCTAssertEqual(boxed[0, 10, 50], 0, "padding rows are filled")
        XCTAssertEqual(boxed[0, 50, 99], 198.5 / 199, accuracy: 1e-6, "last column averages source columns 198 and 199")
    }

    func testCropFlipAndComposition() {
        let image = ramp(width: 10, height: 6)
        let (crop, ct) = image.cropped(x: 2, y: 1, width: 5, height: 4)
        XCTAssertEqual(crop[0, 0, 0], image[0, 1, 2])
        XCTAssertEqual(ct.apply(Box(x1: 3, y1: 2, x2: 6, y2: 5)), Box(x1: 1, y1: 1, x2: 4, y2: 4))
        let (flipped, boxes) = image.flippedHorizontally(boxes: [Box(x1: 1, y1: 0, x2: 4, y2: 2)])
        XCTAssertEqual(flipped[0, 3, 0], image[0, 3, 9])
        XCTAssertEqual(boxes, [Box(x1: 6, y1: 0, x2: 9, y2: 2)])
        let (_, rt) = image.resizedWithTransform(width: 20, height: 12)
        let both = ct.then(rt)
        XCTAssertEqual(both.apply(Box(x1: 3, y1: 2, x2: 6, y2: 5)), Box(x1: 2, y1: 2, x2: 8, y2: 8))
    }

    func testJitterStaysInRangeAndIsSeeded() {
        let image = ramp(width: 16, height: 16)
        let a = image.jittered(brightness: 0.3, contrast: 0.5, rng: RandomGenerator(seed: 4))
        let b = image.jittered(brightness: 0.3, contrast: 0.5, rng: RandomGenerator(seed: 4))
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, image)
        XCTAssertTrue(a.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    func testTensorConversionAndNormalisation() {
        let image = Image(width: 3, height: 2, channels: 3, pixels: (0..<18).map { Float($0) / 17 })
        let t = image.tensor(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])
        XCTAssertEqual(t.shape, [1, 3, 2, 3])
        XCTAssertEqual(t.data[7], (7.0 / 17 - 0.5) / 0.25, accuracy: 1e-6)
        let batch = batchTensor([image.grayscale(), image.grayscale()])
        XCTAssertEqual(batch.shape, [2, 1, 2, 3])
        XCTAssertEqual(image.grayscale().pixels[0], 0.587 * 6 / 17 + 0.114 * 12 / 17, accuracy: 1e-6)
    }

    func testDrawingOutlinesBoxesAndWritesCaption() throws {
        let image = Image(width: 80, height: 60, channels: 1, fill: 0.5)
        let drawn = image.drawing([Annotation(box: Box(x1: 20, y1: 20, x2: 60, y2: 50), label: "nodule", score: 0.87)])
        XCTAssertEqual(drawn.channels, 3)
        XCTAssertEqual([drawn[0, 20, 30], drawn[1, 20, 30], drawn[2, 20, 30]], [1, 0.2, 0.2], "top edge in the first colour")
        XCTAssertEqual(drawn[0, 35, 40], 0.5, "inside stays untouched")
        // The caption sits above the box: some pixels in the caption band carry the box colour.
        var captionPixels = 0
        for y in 11..<18 { for x in 21..<80 where drawn[0, y, x] == 1 && drawn[1, y, x] == 0.2 { captionPixels += 1 } }
        XCTAssertGreaterThan(captionPixels, 30)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-draw-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try ImageIO.writePNG(drawn, to: url)
        XCTAssertEqual(try ImageIO.read(url).width, 80)
    }
}
