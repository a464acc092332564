import Foundation

/// Adam (Kingma & Ba 2015) with PyTorch's semantics, optional AMSGrad, and either L2 weight decay
/// added to the gradient (`Adam`) or decoupled weight decay (`AdamW`, Loshchilov & Hutter 2019).
public final class Adam: Optimizer {
    public var groups: [ParamGroup]
    public let beta1, beta2, eps: Float
    public let amsgrad: Bool
    public let decoupledWeightDecay: Bool
    private let m, v, vMax: [[Tensor]]
    /// Steps taken, kept as a tensor so that it travels in checkpoints with the moments.
    private let steps = Tensor.zeros([1])

    public init(
        _ groups: [ParamGroup], betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8,
        amsgrad: Bool = false, decoupledWeightDecay: Bool = false
    ) {
        self.groups = groups
        (beta1, beta2) = betas
        self.eps = eps; self.amsgrad = amsgrad; self.decoupledWeightDecay = decoupledWeightDecay
        m = groups.map { $0.params.map { Tensor.zeros($0.shape) } }
        v = groups.map { $0.params.map { Tensor.zeros($0.shape) } }
        vMax = amsgrad ? groups.map { $0.params.map { Tensor.zeros($0.shape) } } : []
    }

    /// AdamW: decoupled weight decay (PyTorch's default 0.01).
    public static func adamW(
        _ groups: [ParamGroup], betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8,
        amsgrad: Bool = false
    ) -> Adam {
        Adam(groups, betas: betas, eps: eps, amsgrad: amsgrad, decoupledWeightDecay: true)
    }

    public func step() {
        steps.data[0] += 1
        let t = steps.data[0]
        let bc1 = 1 - Foundation.pow(beta1, t), bc2 = 1 - Foundation.pow(beta2, t)
        let (b1, b2, eps, ams, decoupled) = (beta1, beta2, self.eps, amsgrad, decoupledWeightDecay)
        for (gi, group) in groups.enumerated() {
            let (lr, wd) = (group.lr, group.weightDecay)
            for (pi, p) in group.params.enumerated() {
                guard let grad = p.grad else { continue }
                // Without AMSGrad there is no running maximum: an empty stand-in keeps one code path.
                let mt = m[gi][pi], vt = v[gi][pi], vmax = ams ? vMax[gi][pi] : Tensor.zeros([0])
                p.data.withUnsafeMutableBufferPointer { w in
                    mt.data.withUnsafeMutableBufferPointer { m in
                        vt.data.withUnsafeMutableBufferPointer { v in
                            vmax.data.withUnsafeMutableBufferPointer { vm in
                                for i in 0..<w.count {
                                    var g = grad[i]
                                    if decoupled { w[i] *= 1 - lr * wd } else { g += wd * w[i] }
                                    m[i] = b1 * m[i] + (1 - b1) * g
                                    v[i] = b2 * v[i] + (1 - b2) * g * g
                                    var second = v[i]
                                    if ams { vm[i] = Swift.max(vm[i], v[i]); second = vm[i] }
                                    w[i] -= lr / bc1 * m[i] / ((second / bc2).squareRoot() + eps)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    public func stateTensors() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = [("steps", steps)]
        for gi in m.indices {
            for pi in m[gi].indices {
                out.append(("group\(gi).param\(pi).exp_avg", m[gi][pi]))
                out.append(("group\(gi).param\(pi).exp_avg_sq", v[gi][pi]))
                if amsgrad { out.append(("group\(gi).param\(pi).max_exp_avg_sq", vMax[gi][pi])) }
            }
        }
        return out
    }
}
