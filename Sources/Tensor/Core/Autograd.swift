/// Whether ops record the graph. Scoped per task (and thread), so there is no global mutable flag.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording the autograd graph (inference, optimiser updates, metrics).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false) { try body() }
}

extension Tensor {
    /// Wraps an op's result; records `backward` only when some input needs a gradient.
    /// `op` names the op for the profiler (the calling function unless a helper passes its caller's).
    static func result(
        _ shape: [Int], _ data: [Float], _ inputs: [Tensor], op: StaticString = #function,
        backward: @escaping (Tensor) -> Void
    ) -> Tensor {
        let out = Tensor(shape: shape, data: data)
        if let profiler = Profiler.current { out.profileSlot = profiler.forward(op) }
        if GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) {
            out.requiresGrad = true
            out.inputs = inputs
            out.backwardFn = backward
        }
        return out
    }

    /// Gives `body` this tensor's gradient buffer with zeros where nothing has accumulated yet.
    func accumulateGrad(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        if grad == nil { grad = [Float](repeating: 0, count: count) }
        grad!.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }

    /// Like `accumulateGrad`, but when `overwrites` promises that `body` writes every element, a
    /// fresh buffer is left uninitialised and `beta` is 0, so a BLAS call can fill it without a
    /// memset (beta is 1 when accumulating onto earlier values or onto zeros). A body that may run
    /// no GEMM at all (an empty batch) must pass `overwrites: false`.
    func accumulateGradBLAS(overwrites: Bool, _ body: (_ grad: UnsafeMutablePointer<Float>, _ beta: Float) -> Void) {
        var beta: Float = 1
        if grad == nil {
            let n = count
            if overwrites {
                grad = [Float](unsafeUninitializedCapacity: n) { _, initialised in initialised = n }
                beta = 0
            } else {
                grad = [Float](repeating: 0, count: n)
            }
        }
        grad!.withUnsafeMutableBufferPointer { body($0.baseAddress!, beta) }
    }

    /// Takes `g` as the gradient when none has accumulated yet (arrays are copy-on-write: no copy),
    /// else adds it.
    func accumulateGrad(taking g: [Float]) {
        if grad == nil { grad = g } else { g.withUnsafeBufferPointer { accumulateGrad(adding: $0.baseAddress!) } }
    }

    /// Adds `g` (same count) to the gradient.
    func accumulateGrad(adding g: UnsafePointer<Float>) {
        let n = count
        accumulateGradBLAS(overwrites: true) { gx, beta in
            if beta == 0 { gx.update(from: g, count: n); return }
            Threads.forEachChunk(n) { r in for i in r { gx[i] += g[i] } }
        }
    }

    /// Back-propagates from this tensor. Without `seed` the tensor must hold one element and its
    /// gradient starts at 1. Leaf gradients accumulate across calls; the graph is freed as it is
    /// walked so long chains neither leak nor recurse on release.
    public func backward(seed: [Float]? = nil) {
        precondition(requiresGrad, "backward() on a tensor that does not require grad")
        if let seed {
            precondition(seed.count == count, "seed has \(seed.count) values for shape \(shape)")
            grad = seed
        } else {
            precondition(count == 1, "backward() without a seed needs a scalar, shape is \(shape)")
            grad = [1]
        }
        let profiler = Profiler.current
        for node in topologicalOrder().reversed() {
            guard let fn = node.backwardFn else { continue }
            if node.grad != nil {
                if let profiler { profiler.backward(node.profileSlot) { fn(node) } } else { fn(node) }
            }
            node.backwardFn = nil
            node.inputs = []
            node.grad = nil
        }
    }

    /// Op nodes reachable from here, each after all of its inputs (iterative: chains can be long).
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            guard node.backwardFn != nil, visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for input in node.inputs where input.backwardFn != nil {
                stack.append((input, false))
            }
        }
        return order
    }

    public func zeroGrad() { grad = nil }
}
