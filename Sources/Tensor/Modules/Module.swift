/// Base class of every trainable model part.
///
/// Parameters, buffers and sub-modules are found by reflection over stored properties (as PyTorch
/// registers attributes), so a model declares `let qProj: Linear` and its weight is named
/// `q_proj.weight`. A stored `Tensor` that requires grad is a parameter; one that does not is a
/// buffer (e.g. batch-norm running statistics). Arrays of modules are numbered: `layers.0.attn`.
open class Module {
    public private(set) var training = true

    public init() {}

    /// Direct sub-modules with their names.
    public func namedChildren() -> [(String, Module)] {
        var out: [(String, Module)] = []
        forEachProperty { name, value in
            if let m = value as? Module {
                out.append((name, m))
            } else if let list = value as? [Module] {
                for (i, m) in list.enumerated() { out.append(("\(name).\(i)", m)) }
            }
        }
        return out
    }

    /// Every parameter and buffer of this module and its sub-modules, with hierarchical names.
    public func namedTensors(prefix: String = "") -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        forEachProperty { name, value in
            if let t = value as? Tensor { out.append((prefix + name, t)) }
        }
        for (name, child) in namedChildren() { out += child.namedTensors(prefix: prefix + name + ".") }
        return out
    }

    public func namedParameters() -> [(String, Tensor)] { namedTensors().filter { $0.1.requiresGrad } }
    public func parameters() -> [Tensor] { namedParameters().map(\.1) }
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Switches this module and its sub-modules to training (dropout on, batch statistics).
    public func train(_ on: Bool = true) {
        training = on
        for (_, child) in namedChildren() { child.train(on) }
    }

    /// Switches to inference behaviour.
    public func eval() { train(false) }

    public func zeroGrad() { for p in parameters() { p.grad = nil } }

    /// Stored properties of this class and its superclasses, with snake_case names.
    private func forEachProperty(_ body: (String, Any) -> Void) {
        var mirror: Mirror? = Mirror(reflecting: self)
        var seen = Set<String>()
        while let m = mirror {
            for child in m.children {
                guard let label = child.label, label != "training" else { continue }
                let name = Module.snakeCase(label.hasPrefix("_") ? String(label.dropFirst()) : label)
                if seen.insert(name).inserted { body(name, child.value) }
            }
            mirror = m.superclassMirror
        }
    }

    /// `qProj` -> `q_proj`, `norm1` -> `norm1`: PyTorch's naming, so checkpoints read naturally.
    static func snakeCase(_ s: String) -> String {
        var out = ""
        for ch in s {
            if ch.isUppercase { if !out.isEmpty { out.append("_") }; out += ch.lowercased() } else { out.append(ch) }
        }
        return out
    }
}

/// A module that maps one tensor to one tensor, so it can sit in a `Sequential`.
public protocol UnaryLayer: Module {
    func forward(_ x: Tensor) -> Tensor
}

extension UnaryLayer {
    public func callAsFunction(_ x: Tensor) -> Tensor { forward(x) }
}

/// Layers applied in order.
public final class Sequential: Module, UnaryLayer {
    public let layers: [any UnaryLayer]
    public init(_ layers: [any UnaryLayer]) { self.layers = layers }
    public func forward(_ x: Tensor) -> Tensor { layers.reduce(x) { $1.forward($0) } }
}

public final class ReLU: Module, UnaryLayer {
    public override init() {}
    public func forward(_ x: Tensor) -> Tensor { x.relu() }
}

public final class GELU: Module, UnaryLayer {
    public override init() {}
    public func forward(_ x: Tensor) -> Tensor { x.gelu() }
}

public final class Dropout: Module, UnaryLayer {
    public let p: Float
    private let rng: RandomGenerator
    public init(_ p: Float, rng: RandomGenerator) { self.p = p; self.rng = rng }
    public func forward(_ x: Tensor) -> Tensor { x.dropout(p, training: training, rng: rng) }
}
