import Tensor

/// R2Gen's relational memory (Chen et al. 2020, Sec. 2.2): `slots` rows of width d, updated once
/// per generated token by attending over [memory; token] and gated like an LSTM.
final class RelationalMemory: Module {
    let attention: MultiHeadAttention
    let mlp: Sequential
    /// Input (token) and memory contributions to the input and forget gates.
    let inputGates, memoryGates: Linear
    let slots, dModel: Int

    init(slots: Int, dModel: Int, heads: Int, rng: RandomGenerator) {
        self.slots = slots; self.dModel = dModel
        attention = MultiHeadAttention(dModel: dModel, heads: heads, dropout: 0, rng: rng)
        mlp = Sequential([Linear(dModel, dModel, rng: rng), ReLU(), Linear(dModel, dModel, rng: rng), ReLU()])
        inputGates = Linear(dModel, 2 * dModel, rng: rng)
        memoryGates = Linear(dModel, 2 * dModel, rng: rng)
    }

    /// The identity matrix padded with zeros to `[batch, slots, d]`.
    func initialState(batch: Int) -> Tensor {
        var data = [Float](repeating: 0, count: batch * slots * dModel)
        for b in 0..<batch { for s in 0..<min(slots, dModel) { data[(b * slots + s) * dModel + s] = 1 } }
        return Tensor(shape: [batch, slots, dModel], data: data)
    }

    /// One step: `memory [B, slots, d]`, `token [B, d]` -> the next memory `[B, slots, d]`.
    func step(_ memory: Tensor, token: Tensor) -> Tensor {
        let token = token.unsqueezed(1)
        let keys = Tensor.concat([memory, token], axis: 1)
        var next = memory + attention.forward(query: memory, key: keys, value: keys)
        next = next + mlp(next)
        let gates = (inputGates(token) + memoryGates(memory.tanh())).split([dModel, dModel], axis: 2)
        let (inputGate, forgetGate) = (gates[0].sigmoid(), gates[1].sigmoid())
        return inputGate * next.tanh() + forgetGate * memory
    }

    /// Memory states after each of `tokens [B, T, d]`, flattened to `[B, T, slots * d]`.
    func forward(_ tokens: Tensor, from memory: Tensor) -> Tensor {
        let (b, t) = (tokens.shape[0], tokens.shape[1])
        var memory = memory, states: [Tensor] = []
        for i in 0..<t {
            memory = step(memory, token: tokens.slice(axis: 1, i..<(i + 1)).reshaped([b, dModel]))
            states.append(memory.reshaped([b, slots * dModel]))
        }
        return Tensor.stack(states, axis: 1)
    }
}
