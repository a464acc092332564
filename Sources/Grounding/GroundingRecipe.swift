import Datasets
import Foundation

/// The training choices `ground-train` made for a dataset, and why (kept in the run's config.json
/// and printed at the start): the defaults follow the data, where the embedded phantoms' fixed
/// recipe would stop long before a real dataset is learned.
public struct GroundingRecipe: Codable, Sendable, Equatable {
    public var imageSize: Int
    public var epochs: Int
    public var patience: Int?
    public var augmentation: GroundingAugmentation
    /// The fraction of the training images held out to choose the weights on (nil: the dataset's val split).
    public var valFraction: Double?
    public var reasons: [String]

    public init(imageSize: Int, epochs: Int, patience: Int?, augmentation: GroundingAugmentation, valFraction: Double?, reasons: [String]) {
        self.imageSize = imageSize; self.epochs = epochs; self.patience = patience
        self.augmentation = augmentation; self.valFraction = valFraction; self.reasons = reasons
    }

    /// Grid points the shorter side of a small box (the 10th percentile) should span on the finest level.
    static let pointsAcrossSmallBoxes: Float = 2.5
    /// Training images (epochs x images) a real dataset gets by default.
    static let imagesSeen = 6000

    /// The input size at which the small boxes of every category (the 10th percentile of their
    /// shorter side: a rare small class must not drown in a common large one) span
    /// `pointsAcrossSmallBoxes` points of the finest level, in multiples of 32, no larger than the
    /// images themselves and within 256...640; and the reason, in words.
    public static func imageSize(for samples: [GroundingSample], finestStride: Int) -> (Int, String) {
        var sides: [String: [Float]] = [:]
        for s in samples {
            for r in s.regions where min(r.box.width, r.box.height) > 0 { sides[r.label, default: []].append(min(r.box.width, r.box.height)) }
        }
        let longest = samples.map { max($0.width, $0.height) }.sorted()
        guard let (label, small) = sides.map({ ($0.key, $0.value.sorted()[$0.value.count / 10]) }).min(by: { $0.1 < $1.1 }), !longest.isEmpty
        else { return (256, "256 px: no boxes to measure") }
        let typical = Float(longest[longest.count / 2])
        let wanted = pointsAcrossSmallBoxes * Float(finestStride) * typical / small
        let native = Int(typical.rounded(.up))
        let size = min(max(256, Int((wanted / 32).rounded(.up)) * 32), min(640, max(256, native / 32 * 32)))
        let reason = String(
            format: "%d px: the small boxes of the smallest category (%@, 10th percentile %.0f px of a %.0f px image) then span %.1f points "
                + "of the stride-%d level",
            size, label, small, typical, small * Float(size) / typical / Float(finestStride), finestStride)
        return (size, reason)
    }

    /// Epochs that show the model about `imagesSeen` training images, within 12...60.
    public static func epochs(forTrainingImages count: Int) -> (Int, String) {
        let epochs = min(60, max(12, Int((Double(imagesSeen) / Double(max(count, 1))).rounded())))
        return (epochs, "\(epochs) epochs at most: about \(imagesSeen) training images for \(count) images")
    }
}
