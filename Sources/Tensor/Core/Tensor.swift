import Foundation

/// A float32 tensor with contiguous row-major storage and an optional place in the autograd graph.
///
/// Values live in `data`; the gradient of a backward pass accumulates in `grad` (same count,
/// allocated on first use). Tensors produced by an op while gradients are enabled remember their
/// inputs and how to push a gradient back to them.
public final class Tensor {
    public let shape: [Int]
    public var data: [Float]
    public var grad: [Float]?
    public var requiresGrad: Bool

    /// Inputs of the op that produced this tensor (empty for leaves).
    var inputs: [Tensor] = []
    /// Reads `output.grad` and accumulates into the inputs' gradients.
    var backwardFn: ((Tensor) -> Void)?
    /// The profiler's entry for the op that made this tensor (-1 when not profiled).
    var profileSlot: Int32 = -1

    public init(shape: [Int], data: [Float], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(
            data.count == shape.elementCount,
            "shape \(shape) needs \(shape.elementCount) values, got \(data.count)")
        self.shape = shape
        self.data = data
        self.requiresGrad = requiresGrad
    }

    public convenience init(_ values: [Float], shape: [Int]? = nil, requiresGrad: Bool = false) {
        self.init(shape: shape ?? [values.count], data: values, requiresGrad: requiresGrad)
    }

    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init(shape: [], data: [scalar], requiresGrad: requiresGrad)
    }

    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, data: [Float](repeating: 0, count: shape.elementCount), requiresGrad: requiresGrad)
    }

    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, requiresGrad: requiresGrad)
    }

    public static func full(_ shape: [Int], _ value: Float, requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, data: [Float](repeating: value, count: shape.elementCount), requiresGrad: requiresGrad)
    }

    public static func randn(_ shape: [Int], std: Float = 1, rng: RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.elementCount).map { _ in rng.normal() * std }, requiresGrad: requiresGrad)
    }

    public static func uniform(_ shape: [Int], _ low: Float, _ high: Float, rng: RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.elementCount).map { _ in rng.uniform(low, high) }, requiresGrad: requiresGrad)
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(data.count == 1, "item() needs a one-element tensor, shape is \(shape)")
        return data[0]
    }

    /// A leaf copy of the values, cut from the graph.
    public func detached() -> Tensor { Tensor(shape: shape, data: data) }

    /// Normalises a possibly negative axis index.
    func axis(_ a: Int) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < rank, "axis \(a) out of range for shape \(shape)")
        return r
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = data.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(data.count > 8 ? ", ..." : "")])"
    }
}

extension Array where Element == Int {
    /// Number of elements a tensor of this shape holds.
    public var elementCount: Int { reduce(1, *) }
}

/// The `[outer, axis, inner]` view of a shape around one axis, which most axis-wise kernels use.
struct AxisView {
    let outer: Int, length: Int, inner: Int
    init(_ shape: [Int], axis: Int) {
        outer = shape[..<axis].reduce(1, *)
        length = shape[axis]
        inner = shape[(axis + 1)...].reduce(1, *)
    }
}
