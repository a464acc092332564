import Foundation

/// A seeded generator (xoshiro256**, seeded by SplitMix64). Reference type so that a model and
/// its dropout layers draw from one stream; the same seed gives the same stream on every machine.
public final class RandomGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    private var spareNormal: Float?

    public init(seed: UInt64) {
        s = Self.state(seed)
    }

    /// Restarts the stream as `init(seed:)` would (the layers holding this generator keep it).
    public func reseed(_ seed: UInt64) {
        s = Self.state(seed)
        spareNormal = nil
    }

    private static func state(_ seed: UInt64) -> (UInt64, UInt64, UInt64, UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    public func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    public func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Fills `out` with the next `count` values of `uniform()` (the same values, drawn with the
    /// state in registers: dropout draws one per activation).
    func fillUniform(_ out: UnsafeMutablePointer<Float>, count: Int) {
        var (s0, s1, s2, s3) = s
        for i in 0..<count {
            let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
            let t = s1 << 17
            s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
            s2 ^= t
            s3 = (s3 << 45) | (s3 >> 19)
            out[i] = Float(result >> 40) * 0x1p-24
        }
        s = (s0, s1, s2, s3)
    }

    /// Uniform integer in `0..<n`.
    public func int(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next() % UInt64(n))
    }

    /// Standard normal (Box-Muller; the second value of each pair is kept for the next call).
    public func normal() -> Float {
        if let z = spareNormal { spareNormal = nil; return z }
        var u1 = uniform()
        while u1 <= 0 { u1 = uniform() }
        let u2 = uniform()
        let r = (-2 * log(u1)).squareRoot()
        spareNormal = r * sin(2 * .pi * u2)
        return r * cos(2 * .pi * u2)
    }

    public func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, int(i + 1)) }
    }
}
