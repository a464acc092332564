import Foundation
import XCTest

@testable import Tensor

/// Gradient and value checks of `Sources/Tensor/Ops/RoIAlign.swift` (helpers in GradientCheckInputs.swift).
final class RoIAlignGradientTests: XCTestCase {
    // MARK: - RoIAlign

    private static let rois = [
        RoI(batchIndex: 0, x1: 1.2, y1: 0.7, x2: 4.9, y2: 3.8),
        RoI(batchIndex: 1, x1: 0.3, y1: 1.1, x2: 6.2, y2: 5.5),
        RoI(batchIndex: 0, x1: 2.5, y1: 2.5, x2: 3.1, y2: 3.3),  // smaller than a bin
        RoI(batchIndex: 1, x1: -0.8, y1: -0.5, x2: 2.0, y2: 1.7)  // partly outside the map
    ]

    func testRoIAlignGradients() {
        let features = tensor([2, 3, 6, 7], seed: 400)
        for aligned in [true, false] {
            for sampling in [2, 0] {
                checkGradients("roiAlign aligned \(aligned) sampling \(sampling)", inputs: [features]) {
                    roiAlign($0[0], rois: Self.rois, outputSize: (2, 3), spatialScale: 1, samplingRatio: sampling, aligned: aligned)
                }
            }
        }
        // Image coordinates at stride 2.
        let scaled = Self.rois.map { RoI(batchIndex: $0.batchIndex, x1: $0.x1 * 2, y1: $0.y1 * 2, x2: $0.x2 * 2, y2: $0.y2 * 2) }
        checkGradients("roiAlign spatialScale 0.5", inputs: [features]) {
            roiAlign($0[0], rois: scaled, outputSize: (3, 2), spatialScale: 0.5, samplingRatio: 0, aligned: true)
        }
    }

    func testRoIAlignValues() {
        let (h, w) = (6, 7)
        // Constant map: every bin whose samples lie inside the map averages to the constant.
        let constant = Tensor.full([2, 1, h, w], 3)
        let inside = [RoI(batchIndex: 0, x1: 1.2, y1: 0.7, x2: 4.9, y2: 3.8), RoI(batchIndex: 1, x1: 0.3, y1: 1.1, x2: 6.2, y2: 5.5)]
        for aligned in [true, false] {
            for sampling in [0, 1, 2, 3] {
                let y = roiAlign(constant, rois: inside, outputSize: (2, 3), spatialScale: 1, samplingRatio: sampling, aligned: aligned)
                assertClose(y.data, [Float](repeating: 3, count: 12), "constant map aligned \(aligned) sampling \(sampling)")
            }
        }
        // A RoI entirely off the map samples nothing.
        let off = roiAlign(constant, rois: [RoI(batchIndex: 0, x1: 20, y1: 20, x2: 30, y2: 30)], outputSize: (2, 2), spatialScale: 1)
        XCTAssertEqual(off.data, [0, 0, 0, 0])

        // Linear ramp f_c(y, x) = (c + 1) y - 0.3 x + c on batch 0 and 2 y + x on batch 1. Bilinear
        // sampling reproduces a linear function, and the samples of a bin are symmetric about its
        // centre, so each bin averages to the ramp at the bin centre.
        var data = [Float](repeating: 0, count: 2 * 2 * h * w)
        for n in 0..<2 {
            for c in 0..<2 {
                for y in 0..<h {
                    for x in 0..<w {
                        data[((n * 2 + c) * h + y) * w + x] = n == 0 ? Float(c + 1) * Float(y) - 0.3 * Float(x) + Float(c) : 2 * Float(y) + Float(x)
                    }
                }
            }
        }
        let ramp = Tensor(data, shape: [2, 2, h, w])
        func rampValue(_ n: Int, _ c: Int, _ y: Float, _ x: Float) -> Float {
            n == 0 ? Float(c + 1) * y - 0.3 * x + Float(c) : 2 * y + x
        }
        let scale: Float = 0.5
        let rois = [RoI(batchIndex: 0, x1: 2.4, y1: 2.2, x2: 9.6, y2: 8.6), RoI(batchIndex: 1, x1: 1.6, y1: 1.4, x2: 11.2, y2: 9.8)]
        let (ph, pw) = (2, 3)
        for aligned in [true, false] {
            for sampling in [0, 1, 2, 4] {
                let y = roiAlign(ramp, rois: rois, outputSize: (ph, pw), spatialScale: scale, samplingRatio: sampling, aligned: aligned)
                XCTAssertEqual(y.shape, [2, 2, ph, pw])
                var expected: [Float] = []
                let offset: Float = aligned ? 0.5 : 0
                for roi in rois {
                    let sx = roi.x1 * scale - offset, sy = roi.y1 * scale - offset
                    let bw = (roi.x2 - roi.x1) * scale / Float(pw), bh = (roi.y2 - roi.y1) * scale / Float(ph)
                    for c in 0..<2 {
                        for i in 0..<ph {
                            for j in 0..<pw {
                                expected.append(rampValue(roi.batchIndex, c, sy + (Float(i) + 0.5) * bh, sx + (Float(j) + 0.5) * bw))
                            }
                        }
                    }
                }
                assertClose(y.data, expected, tol: 1e-4, "ramp aligned \(aligned) sampling \(sampling)")
            }
        }
        // On a quadratic map the number of samples per bin matters. Channel 0 is y^2, channel 1 is x^2
        // on a 5x5 map; RoI (0, 0, 4, 4) pooled to 1x2 has bins 4 high and 2 wide.
        var quad = [Float](repeating: 0, count: 2 * 25)
        for y in 0..<5 { for x in 0..<5 { quad[y * 5 + x] = Float(y * y); quad[25 + y * 5 + x] = Float(x * x) } }
        let quadMap = Tensor(quad, shape: [1, 2, 5, 5])
        let square = [RoI(batchIndex: 0, x1: 0, y1: 0, x2: 4, y2: 4)]
        // Not aligned, adaptive grid 4 x 2: rows sample y = 0.5, 1.5, 2.5, 3.5, where bilinear y^2 is
        // 0.5, 2.5, 6.5, 12.5 (mean 5.5); columns sample x = 0.5, 1.5 and 2.5, 3.5 (means 1.5 and 9.5).
        assertClose(
            roiAlign(quadMap, rois: square, outputSize: (1, 2), spatialScale: 1, samplingRatio: 0, aligned: false).data,
            [5.5, 5.5, 1.5, 9.5], "quadratic adaptive grid")
        // samplingRatio 2: rows sample y = 1, 3 (mean of 1 and 9 is 5); columns as before.
        assertClose(
            roiAlign(quadMap, rois: square, outputSize: (1, 2), spatialScale: 1, samplingRatio: 2, aligned: false).data,
            [5, 5, 1.5, 9.5], "quadratic sampling 2")
        // samplingRatio 1: the bin centres y = 2, x = 1 and 3.
        assertClose(
            roiAlign(quadMap, rois: square, outputSize: (1, 2), spatialScale: 1, samplingRatio: 1, aligned: false).data,
            [4, 4, 1, 9], "quadratic sampling 1")
        // Aligned shifts by half a pixel: rows sample y = 0, 1, 2, 3 (mean 3.5), columns x = 0, 1 and 2, 3.
        assertClose(
            roiAlign(quadMap, rois: square, outputSize: (1, 2), spatialScale: 1, samplingRatio: 0, aligned: true).data,
            [3.5, 3.5, 0.5, 6.5], "quadratic aligned")
        // One sample per bin at integer grid points reads the pixel itself: a 1-pixel RoI per bin.
        let px = roiAlign(
            ramp, rois: [RoI(batchIndex: 1, x1: 2, y1: 1, x2: 4, y2: 3)], outputSize: (2, 2), spatialScale: 1,
            samplingRatio: 1, aligned: true)
        // aligned: start (1.5, 0.5), bins of 1, sample centres at x = 2, 3 and y = 1, 2.
        assertClose(Array(px.data[0..<4]), [2 * 1 + 2, 2 * 1 + 3, 2 * 2 + 2, 2 * 2 + 3], "pixel-centred samples")
    }
}
