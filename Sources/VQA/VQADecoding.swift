import Foundation
import Tensor

/// Incremental decoding: each layer keeps the keys and values of the positions seen so far, so a
/// new answer token attends over the prompt without recomputing it. Computes what
/// `TransformerEncoderLayer.forward` computes in eval mode (no dropout).
struct VQAStepper {
    struct Cache { var keys, values: Tensor? }

    let model: VQAModel
    var caches: [Cache]
    var position = 0
    /// Additive key mask `[N, 1, 1, keys]` over the positions cached so far (the prompt's padding).
    var keyMask: Tensor?

    init(_ model: VQAModel) {
        self.model = model
        caches = Array(repeating: Cache(), count: model.layers.count)
    }

    /// Runs the fused prompts (all of one length) and returns log-probabilities `[N * vocab]` of the first answer token.
    mutating func prefill(_ prompts: [[Int]], imageTokens: Tensor) -> [Float] {
        let slot = prompts[0].firstIndex(of: VQAVocabulary.image)!
        let x = model.fuse(prompts, imageTokens: imageTokens, slot: slot)
        keyMask = model.paddingMask(prompts, imageTokens: imageTokens.shape[1], slot: slot)
        position = x.shape[1]
        return next(x)
    }

    /// Log-probabilities `[N * vocab]` of the token after `tokens` (one per row).
    mutating func step(_ tokens: [Int]) -> [Float] {
        let n = tokens.count
        let e = model.tokenEmbedding.forward(tokens, shape: [n, 1])
        let x = e + model.positionEmbedding.slice(axis: 0, min(position, model.maxPositions - 1)..<min(position + 1, model.maxPositions))
        position += 1
        // Generated tokens are always attended to.
        keyMask = Tensor.concat([keyMask!, Tensor.zeros([n, 1, 1, 1])], axis: 3)
        return next(x)
    }

    /// Keeps row `rows[i]`'s cache as the new row `i` (beam search).
    mutating func reorder(_ rows: [Int]) {
        for l in caches.indices {
            caches[l].keys = caches[l].keys!.indexSelect(axis: 0, rows)
            caches[l].values = caches[l].values!.indexSelect(axis: 0, rows)
        }
        keyMask = keyMask!.indexSelect(axis: 0, rows)
    }

    private mutating func next(_ input: Tensor) -> [Float] {
        var x = input
        for (l, layer) in model.layers.enumerated() {
            let a = layer.selfAttn
            let n1 = layer.norm1(x)
            let (k, v) = (split(a.kProj(n1), a.heads), split(a.vProj(n1), a.heads))
            caches[l].keys = caches[l].keys.map { Tensor.concat([$0, k], axis: 2) } ?? k
            caches[l].values = caches[l].values.map { Tensor.concat([$0, v], axis: 2) } ?? v
            let attended = scaledDotProductAttention(split(a.qProj(n1), a.heads), caches[l].keys!, caches[l].values!, mask: keyMask, causal: true)
            let h = x + a.outProj(merge(attended))
            x = h + layer.feedForward(layer.norm2(h))
        }
        let t = x.shape[1]
        let last = model.finalNorm(x.slice(axis: 1, (t - 1)..<t))
        return model.output(last).logSoftmax(axis: -1).data
    }

    private func split(_ x: Tensor, _ heads: Int) -> Tensor {
        let (n, t, d) = (x.shape[0], x.shape[1], x.shape[2])
        return x.reshaped([n, t, heads, d / heads]).permuted([0, 2, 1, 3])
    }

    private func merge(_ x: Tensor) -> Tensor {
        let (n, h, t, dk) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        return x.permuted([0, 2, 1, 3]).reshaped([n, t, h * dk])
    }
}

enum VQADecoding {
    /// Greedy decoding of a batch of equal-length prompts until every row has emitted `<eos>` or
    /// `maxTokens` tokens. Returns each row's tokens without `<eos>`.
    static func greedy(_ model: VQAModel, prompts: [[Int]], imageTokens: Tensor, maxTokens: Int) -> [[Int]] {
        var stepper = VQAStepper(model)
        var logProbs = stepper.prefill(prompts, imageTokens: imageTokens)
        let vocab = logProbs.count / prompts.count
        var out = [[Int]](repeating: [], count: prompts.count), done = [Bool](repeating: false, count: prompts.count)
        for t in 0..<maxTokens {
            let tokens = (0..<prompts.count).map { r in argmax(logProbs[(r * vocab)..<((r + 1) * vocab)]) }
            for (r, token) in tokens.enumerated() where !done[r] {
                if token == VQAVocabulary.endOfAnswer { done[r] = true } else { out[r].append(token) }
            }
            if !done.contains(false) || t == maxTokens - 1 { break }
            logProbs = stepper.step(tokens)
        }
        return out
    }

    /// Beam search for one prompt: hypotheses scored by summed log-probability (no length penalty);
    /// stops when the best finished hypothesis beats every live one. Beam size 1 is greedy.
    static func beam(_ model: VQAModel, prompt: [Int], imageTokens: Tensor, beamSize k: Int, maxTokens: Int) -> [Int] {
        var stepper = VQAStepper(model)
        var logProbs = stepper.prefill(
            [[Int]](repeating: prompt, count: k), imageTokens: imageTokens.indexSelect(axis: 0, [Int](repeating: 0, count: k)))
        let vocab = logProbs.count / k
        // Only row 0 is live at first, so the first step fans out from one hypothesis.
        var live: [(tokens: [Int], score: Float)] = [([], 0)]
        var finished: [(tokens: [Int], score: Float)] = []
        for t in 0..<maxTokens {
            var candidates: [(row: Int, token: Int, score: Float)] = []
            for (r, h) in live.enumerated() {
                for v in 0..<vocab { candidates.append((r, v, h.score + logProbs[r * vocab + v])) }
            }
            candidates.sort { $0.score > $1.score }
            var next: [(row: Int, token: Int, score: Float)] = []
            for c in candidates.prefix(2 * k) {
                if c.token == VQAVocabulary.endOfAnswer || t == maxTokens - 1 {
                    finished.append((c.token == VQAVocabulary.endOfAnswer ? live[c.row].tokens : live[c.row].tokens + [c.token], c.score))
                } else if next.count < k {
                    next.append(c)
                }
            }
            let bestFinished = finished.map(\.score).max() ?? -.infinity
            guard let first = next.first, first.score > bestFinished else { break }
            let rows = (0..<k).map { $0 < next.count ? next[$0].row : next[0].row }
            live = next.map { (live[$0.row].tokens + [$0.token], $0.score) }
            stepper.reorder(rows)
            logProbs = stepper.step((0..<k).map { $0 < next.count ? next[$0].token : next[0].token })
        }
        return finished.max { $0.score < $1.score }?.tokens ?? []
    }

    static func argmax(_ x: ArraySlice<Float>) -> Int {
        var best = x.startIndex
        for i in x.indices where x[i] > x[best] { best = i }
        return best - x.startIndex
    }
}
