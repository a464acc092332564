import Foundation
import Tensor

/// The renderable findings of the chest phantom, as `Corpora/cxr/findings.json` specifies them.
public struct ChestFindingSpec: Codable, Sendable {
    public var observation: String
    public var prevalence: Double
    public var sides: [String]
    public var zones: [String]
    public var sizes: [String: [Float]]
}

public struct ChestFindingsFile: Codable, Sendable {
    public var findings: [String: ChestFindingSpec]
    public var observations: [String]
}

/// One finding placed in a study: what, where (side, zone), how big, and its extent parameter.
public struct ChestFinding: Codable, Equatable, Sendable {
    public var kind: String
    public var side: String
    public var zone: String
    public var size: String
    /// Radius / height fraction / scale factor, per kind (see findings.json).
    public var extent: Float
    /// Where inside its zone it sits (0...1 across and along), so both views agree.
    public var along: Float
    public var across: Float
    /// Depth in the lateral view (0 anterior ... 1 posterior).
    public var depth: Float
    /// Whether the report states it with hedging ("possible ..."): CheXpert label -1.
    public var uncertain: Bool
}

extension ChestFindingsFile {
    /// Draws a study's findings: each kind independently by prevalence, in spec order so the
    /// stream of random numbers is stable; a nodule and a mass never co-occur.
    func sample(rng: RandomGenerator, uncertainty: Float = 0.1) -> [ChestFinding] {
        var out: [ChestFinding] = []
        for kind in findings.keys.sorted() {
            let spec = findings[kind]!
            let draw = rng.uniform()
            guard Double(draw) < spec.prevalence else { continue }
            if kind == "mass", out.contains(where: { $0.kind == "nodule" }) { continue }
            let side = spec.sides[rng.int(spec.sides.count)], zone = spec.zones[rng.int(spec.zones.count)]
            let sizeName = spec.sizes.keys.sorted()[rng.int(spec.sizes.count)]
            let range = spec.sizes[sizeName]!
            out.append(
                ChestFinding(
                    kind: kind, side: side, zone: zone, size: sizeName, extent: rng.uniform(range[0], range[1]),
                    along: rng.uniform(0.25, 0.75), across: rng.uniform(0.3, 0.7), depth: rng.uniform(0.25, 0.75),
                    uncertain: rng.uniform() < uncertainty))
        }
        return out
    }
}
