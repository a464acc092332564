import Tensor

/// How well the localization head (a training-time aid) finds each label, per image: an image is
/// called positive for a label when one of its patches scores at least 0.5. Shows whether the
/// vision encoder's map holds a finding at all, apart from whether the language model reads it.
public struct LocalizationReport: Sendable {
    public struct Row: Sendable, Equatable {
        public let label: String
        public let truePositives: Int, falsePositives: Int, falseNegatives: Int
        public var precision: Double { Double(truePositives) / Double(max(1, truePositives + falsePositives)) }
        public var recall: Double { Double(truePositives) / Double(max(1, truePositives + falseNegatives)) }
    }

    public let rows: [Row]

    /// Counts from per-image predicted and true label sets.
    init(labels: [String], predicted: [Set<String>], truth: [Set<String>]) {
        rows = labels.map { label in
            var tp = 0, fp = 0, fn = 0
            for (p, t) in zip(predicted, truth) {
                switch (p.contains(label), t.contains(label)) {
                case (true, true): tp += 1
                case (true, false): fp += 1
                case (false, true): fn += 1
                case (false, false): break
                }
            }
            return Row(label: label, truePositives: tp, falsePositives: fp, falseNegatives: fn)
        }
    }
}

extension VQASystem {
    /// The localization head's report on `set`'s images (centre crops) against their boxes; nil
    /// when the run trained without the head.
    public func localizationReport(_ set: VQASet) -> LocalizationReport? {
        guard let head = model.localizationHead, let labels = run.model.localization?.labels else { return nil }
        model.eval()
        defer { model.train() }
        var predicted: [Set<String>] = []
        withNoGrad {
            for start in stride(from: 0, to: set.images.count, by: 32) {
                let images = Array(start..<min(start + 32, set.images.count))
                let p = head.logits(model.visionEncoder(set.pixels(images, size: run.model.imageSize, rng: nil))).sigmoid()
                let (patches, k) = (p.shape[1], p.shape[2])
                for b in images.indices {
                    predicted.append(
                        Set(labels.indices.filter { j in (0..<patches).contains { p.data[(b * patches + $0) * k + j] >= 0.5 } }.map { labels[$0] }))
                }
            }
        }
        return LocalizationReport(labels: labels, predicted: predicted, truth: set.boxes.map { Set($0.map(\.phrase)) })
    }
}
