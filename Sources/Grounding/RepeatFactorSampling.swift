import Datasets
import Tensor

/// LVIS's repeat-factor sampling (Gupta et al., 2019): a category present in a fraction f < t of
/// its modality's training images gives each image holding it r = sqrt(t / f) (an image takes its
/// rarest category's r), and an epoch shows the image r times on average. Rare findings (a rib
/// fracture in 6% of radiographs) get more gradient steps without changing the loss.
public struct RepeatFactorSampling: Sendable {
    public let threshold: Double
    /// Repeat factor of each sample, in the order the samples were given.
    public let factors: [Double]

    /// Frequencies are counted per modality: each modality has its own prompt and encoder, so a
    /// finding is rare among its modality's images, not among all seven modalities'.
    public init(_ samples: [GroundingSample], threshold: Double) {
        self.threshold = threshold
        var images: [String: Int] = [:], holding: [String: [String: Int]] = [:]
        for s in samples {
            let m = s.modality ?? "unknown"
            images[m, default: 0] += 1
            for label in Set(s.regions.map(\.label)) { holding[m, default: [:]][label, default: 0] += 1 }
        }
        factors = samples.map { s in
            let m = s.modality ?? "unknown"
            return Set(s.regions.map(\.label)).map { label in
                max(1, (threshold * Double(images[m]!) / Double(holding[m]![label]!)).squareRoot())
            }.max() ?? 1
        }
    }

    /// Images an epoch holds on average.
    public var expectedCount: Int { Int(factors.reduce(0, +).rounded()) }

    /// One epoch: each sample floor(r) times, and once more with probability r - floor(r).
    public func epoch(_ samples: [GroundingSample], rng: RandomGenerator) -> [GroundingSample] {
        precondition(samples.count == factors.count, "sampling was built for other samples")
        var out: [GroundingSample] = []
        out.reserveCapacity(expectedCount)
        for (s, r) in zip(samples, factors) {
            let whole = r.rounded(.down)
            let copies = Int(whole) + (Double(rng.uniform()) < r - whole ? 1 : 0)
            out += repeatElement(s, count: copies)
        }
        return out
    }
}
