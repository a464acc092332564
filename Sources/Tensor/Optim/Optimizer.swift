/// Parameters that share hyper-parameters (R2Gen gives the visual extractor its own learning rate).
public struct ParamGroup {
    public var params: [Tensor]
    /// Learning rate before scheduling; `lr` is set from it by `applySchedule`.
    public var baseLR: Float
    public var lr: Float
    public var weightDecay: Float

    public init(_ params: [Tensor], lr: Float, weightDecay: Float = 0) {
        self.params = params; self.baseLR = lr; self.lr = lr; self.weightDecay = weightDecay
    }
}

/// Common optimiser surface: groups, a step, and state that checkpoints can carry.
public protocol Optimizer: AnyObject {
    var groups: [ParamGroup] { get set }
    /// Updates every parameter that has a gradient.
    func step()
    /// Per-parameter state tensors (moments), named for a checkpoint.
    func stateTensors() -> [(String, Tensor)]
}

extension Optimizer {
    public func zeroGrad() { for g in groups { for p in g.params { p.grad = nil } } }

    /// Sets every group's learning rate to its base rate times `factor` (a scheduler's output).
    public func applySchedule(_ factor: Float) {
        for i in groups.indices { groups[i].lr = groups[i].baseLR * factor }
    }

    /// Restores moments saved by `stateTensors()`; fails naming what is missing or mis-shaped.
    public func loadState(_ tensors: [String: Tensor]) throws {
        try assignMatching(target: stateTensors(), from: tensors, what: "optimiser state")
    }
}

/// Copies tensors by name into `target`, failing with every missing, unexpected and mis-shaped name.
func assignMatching(
    target: [(String, Tensor)], from source: [String: Tensor], what: String,
    allowUnexpected: Bool = true
) throws {
    var missing: [String] = [], misshaped: [String] = []
    for (name, t) in target {
        guard let s = source[name] else { missing.append(name); continue }
        if s.shape != t.shape { misshaped.append("\(name): expected \(t.shape), found \(s.shape)"); continue }
    }
    let expected = Set(target.map(\.0))
    let unexpected = allowUnexpected ? [] : source.keys.filter { !expected.contains($0) }.sorted()
    if !missing.isEmpty || !misshaped.isEmpty || !unexpected.isEmpty {
        throw CheckpointError.mismatch(what: what, missing: missing, unexpected: unexpected, misshaped: misshaped)
    }
    for (name, t) in target { t.data = source[name]!.data }
}
