/// Stochastic gradient descent with momentum, optional Nesterov, and L2 weight decay (PyTorch semantics).
public final class SGD: Optimizer {
    public var groups: [ParamGroup]
    public let momentum: Float
    public let nesterov: Bool
    private let velocity: [[Tensor]]

    public init(_ groups: [ParamGroup], momentum: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || momentum > 0, "Nesterov momentum needs momentum > 0")
        self.groups = groups; self.momentum = momentum; self.nesterov = nesterov
        velocity = groups.map { $0.params.map { Tensor.zeros($0.shape) } }
    }

    public convenience init(_ params: [Tensor], lr: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.init([ParamGroup(params, lr: lr, weightDecay: weightDecay)], momentum: momentum, nesterov: nesterov)
    }

    public func step() {
        for (gi, group) in groups.enumerated() {
            for (pi, p) in group.params.enumerated() {
                guard let grad = p.grad else { continue }
                let v = velocity[gi][pi]
                let (lr, wd, mu, nesterov) = (group.lr, group.weightDecay, momentum, nesterov)
                p.data.withUnsafeMutableBufferPointer { w in
                    v.data.withUnsafeMutableBufferPointer { vel in
                        for i in 0..<w.count {
                            var g = grad[i] + wd * w[i]
                            if mu != 0 {
                                vel[i] = mu * vel[i] + g
                                g = nesterov ? g + mu * vel[i] : vel[i]
                            }
                            w[i] -= lr * g
                        }
                    }
                }
            }
        }
    }

    public func stateTensors() -> [(String, Tensor)] {
        velocity.enumerated().flatMap { gi, vs in vs.enumerated().map { ("group\(gi).param\($0).momentum", $1) } }
    }
}
