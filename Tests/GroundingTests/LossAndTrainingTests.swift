import Foundation
import Imaging
import Tensor
import XCTest

@testable import Grounding

final class LossAndTrainingTests: XCTestCase {
    let tokenizer = SubwordTokenizer(learningFrom: ["square", "disc", "square", "disc"], merges: 20)

    func testLossTermsOnAHandBuiltOutput() throws {
        let prompt = try GroundingPrompt(parsing: "square. disc.", tokenizer: tokenizer)
        let grid = PointGrid(imageWidth: 64, imageHeight: 64)
        let box = Box(x1: 12, y1: 12, x2: 36, y2: 36)
        let assigned = ATSSAssigner().assign(grid, boxes: [box])
        let positives = assigned.compactMap { $0 }.count
        XCTAssertGreaterThan(positives, 0)
        let t = prompt.tokenIDs.count, p = grid.count
        // Every logit at the focal prior, regression exactly right, centerness logits 0.
        let prior = -Float(log(99.0))
        var ltrb = [Float](repeating: 1, count: p * 4)
        for i in 0..<p {
            let e = BoxCoding.encode(box, point: grid.points[i], stride: grid.level(of: i).stride); for k in 0..<4 { ltrb[i * 4 + k] = e[k] }
        }
        let out = AlignmentHead.Output(logits: Tensor.full([1, p, t], prior), ltrb: Tensor(ltrb, shape: [1, p, 4]), centerness: Tensor.zeros([1, p]))
        let terms = GroundingLoss(grid: grid)(out, targets: [GroundingTarget(boxes: [box], phrases: [1])], prompt: prompt)
        XCTAssertEqual(terms.positives, positives)
        // Focal loss by hand: positives alpha (1-p)^2 (-log p), negatives (1-alpha) p^2 (-log(1-p)), p = 0.01.
        let positiveTokens = positives * prompt.positiveMap[1].count
        let pos = 0.25 * 0.99 * 0.99 * -log(0.01), neg = 0.75 * 0.01 * 0.01 * -log(0.99)
        let expected = (Double(positiveTokens) * pos + Double(p * t - positiveTokens) * neg) / Double(positives)
        XCTAssertEqual(Double(terms.classification.item), expected, accuracy: 1e-4 * expected)
        XCTAssertEqual(terms.regression.item, 0, accuracy: 1e-5, "decoded boxes equal the target")
        // Centerness logits 0 (probability 0.5) against targets c: BCE = log 2 whatever c is... per positive.
        XCTAssertEqual(terms.centerness.item, Float(log(2.0)), accuracy: 1e-5)
    }

    /// "heart" and "cardiomegaly" on one outline: the points ATSS gives that box are positive for
    /// both phrases' tokens, so the second phrase is learnable at all.
    func testOneBoxWithTwoPhrasesMakesBothPositive() throws {
        let prompt = try GroundingPrompt(parsing: "square. disc.", tokenizer: tokenizer)
        let grid = PointGrid(imageWidth: 64, imageHeight: 64)
        let box = Box(x1: 12, y1: 12, x2: 36, y2: 36), other = Box(x1: 40, y1: 40, x2: 60, y2: 60)
        let target = GroundingTarget(boxes: [box, Box(x1: 12.2, y1: 12, x2: 36, y2: 36), other], phrases: [0, 1, 0])
        XCTAssertEqual(target.phrases(sharingBox: 0), [0, 1])
        XCTAssertEqual(target.phrases(sharingBox: 1), [0, 1])
        XCTAssertEqual(target.phrases(sharingBox: 2), [0])
        let p = grid.count, t = prompt.tokenIDs.count
        let out = AlignmentHead.Output(
            logits: Tensor.full([1, p, t], -Float(log(99.0))), ltrb: Tensor.ones([1, p, 4]), centerness: Tensor.zeros([1, p]))
        let terms = GroundingLoss(grid: grid)(out, targets: [target], prompt: prompt)
        let assigned = ATSSAssigner().assign(grid, boxes: target.boxes)
        let onShared = assigned.filter { $0 == 0 || $0 == 1 }.count, onOther = assigned.filter { $0 == 2 }.count
        XCTAssertGreaterThan(onShared, 0)
        let positiveTokens = onShared * (prompt.positiveMap[0].count + prompt.positiveMap[1].count) + onOther * prompt.positiveMap[0].count
        let pos = 0.25 * 0.99 * 0.99 * -log(0.01), neg = 0.75 * 0.01 * 0.01 * -log(0.99)
        let expected = (Double(positiveTokens) * pos + Double(p * t - positiveTokens) * neg) / Double(onShared + onOther)
        XCTAssertEqual(Double(terms.classification.item), expected, accuracy: 1e-4 * expected)
    }

    /// Two phantom images (a square and a disc) learned in a few dozen steps: detections must find
    /// both shapes with the right phrase (AP50 = 1 on the training images).
    func testTinyModelOverfitsAHandfulOfImages() throws {
        let prompt = try GroundingPrompt(parsing: "square. disc.", tokenizer: tokenizer)
        var config = GroundingConfig()
        config.dModel = 16; config.heads = 2; config.channels = [8, 16, 16, 32, 32]; config.textLayers = 1
        config.modalities = ["toy"]
        let model = MedGLIPModel(config, vocabulary: tokenizer.count, seed: 3)
        let grid = PointGrid(imageWidth: 64, imageHeight: 64)
        var images: [Image] = [], targets: [GroundingTarget] = []
        for (k, (cx, cy)) in [(20, 22), (42, 40), (40, 18), (22, 44)].enumerated() {
            var img = Image(width: 64, height: 64, channels: 3)
            let square = k % 2 == 0
            for y in 0..<64 {
                for x in 0..<64 {
                    let inside = square ? abs(x - cx) < 10 && abs(y - cy) < 10 : (x - cx) * (x - cx) + (y - cy) * (y - cy) < 100
                    if inside { for c in 0..<3 { img[c, y, x] = 1 } }
                }
            }
            images.append(img)
            targets.append(
                GroundingTarget(
                    boxes: [Box(x1: Float(cx - 10), y1: Float(cy - 10), x2: Float(cx + 10), y2: Float(cy + 10))], phrases: [square ? 0 : 1]))
        }
        let batch = batchTensor(images)
        let optimizer = Adam.adamW([ParamGroup(model.parameters(), lr: 3e-3, weightDecay: 1e-4)])
        let loss = GroundingLoss(grid: grid)
        for _ in 0..<120 {
            let out = try model.forward(images: batch, modality: "toy", promptIDs: prompt.tokenIDs)
            optimizer.zeroGrad()
            loss(out, targets: targets, prompt: prompt).total.backward()
            clipGradNorm(model.parameters(), maxNorm: 5)
            optimizer.step()
        }
        model.eval()
        let out = try withNoGrad { try model.forward(images: batch, modality: "toy", promptIDs: prompt.tokenIDs) }
        for (i, target) in targets.enumerated() {
            let dets = Postprocess().detections(out, image: i, grid: grid, prompt: prompt, transform: .identity, width: 64, height: 64)
            let top = try XCTUnwrap(dets.first, "image \(i): no detection")
            XCTAssertEqual(top.phrase, target.phrases[0], "image \(i): top detection is the wrong phrase")
            XCTAssertGreaterThan(top.box.iou(target.boxes[0]), 0.5, "image \(i): top box \(top.box) vs \(target.boxes[0])")
        }
    }
}
