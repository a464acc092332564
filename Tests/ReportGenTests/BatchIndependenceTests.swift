import Foundation
import Tensor
import XCTest

@testable import ReportGen

/// Data-parallel training and micro-batches rest on this: the parts of a batch, each weighted by
/// its share of the batch's tokens, give the whole batch's loss and gradients.
final class BatchIndependenceTests: XCTestCase {
    func testPartsOfABatchWeightedByTheirTokensGiveTheWholeBatchsGradients() {
        let tokenizer = ReportTokenizer(trainingReports: ReportTrainingTests.reports, dataset: .iuXray, threshold: 1)
        let generator = ReportGenerator(ReportRunConfig(model: tinyConfig(), dataDir: "", seed: 0), tokenizer: tokenizer)
        let data = ReportTrainingTests.examples(generator), model = generator.model
        let all = Float(ReportTrainer.targetTokens(data))
        func gradients(_ parts: [Range<Int>]) -> (Float, [Float]) {
            for p in model.parameters() { p.grad = nil }
            var total: Float = 0
            for part in parts {
                let studies = Array(data[part])
                let features = model.attentionFeatures(generator.loader.batch(studies, rngs: nil), views: 2)
                let share = Float(ReportTrainer.targetTokens(studies)) / all
                let loss = share * model.loss(encoded: model.encode(features), sequences: studies.map(\.sequence))
                loss.backward()
                total += loss.item
            }
            return (total, model.parameters().flatMap { $0.grad ?? [Float](repeating: 0, count: $0.count) })
        }
        let (wholeLoss, whole) = gradients([0..<8])
        let (partsLoss, parts) = gradients([0..<3, 3..<8])
        XCTAssertEqual(partsLoss, wholeLoss, accuracy: 1e-5 * wholeLoss)
        let difference = zip(whole, parts).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let norm = whole.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        XCTAssertGreaterThan(norm, 0)
        XCTAssertLessThan(difference / norm, 1e-5)
    }
}
