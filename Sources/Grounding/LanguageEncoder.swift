import Tensor

/// The shared language encoder: token and position embeddings and a small pre-norm transformer.
final class LanguageEncoder: Module {
    let tokens: Embedding
    let positions: Embedding
    let layers: [TransformerEncoderLayer]
    let norm: LayerNorm

    init(vocabulary: Int, _ config: GroundingConfig, rng: RandomGenerator) {
        tokens = Embedding(vocabulary, config.dModel, rng: rng)
        positions = Embedding(config.maxTokens, config.dModel, rng: rng)
        for e in [tokens.weight, positions.weight] { Init.normal(e, std: 0.02, rng: rng) }
        layers = (0..<config.textLayers).map { _ in
            TransformerEncoderLayer(dModel: config.dModel, heads: config.heads, dFF: 2 * config.dModel, dropout: 0.1, rng: rng)
        }
        norm = LayerNorm(config.dModel)
    }

    /// Token ids of one prompt -> `[1, T, d]`.
    func forward(_ ids: [Int]) -> Tensor {
        let x = tokens.forward(ids, shape: [1, ids.count]) + positions.forward(Array(0..<ids.count), shape: [ids.count])
        return norm(layers.reduce(x) { $1.forward($0) })
    }
}
