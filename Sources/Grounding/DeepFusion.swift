import Tensor

/// GLIP's deep fusion: bidirectional cross-attention between image tokens and prompt tokens, so
/// the image features become language-aware and the token features image-aware before alignment.
final class FusionLayer: Module {
    let imageToText, textToImage: MultiHeadAttention
    let imageNorm, textNorm: LayerNorm

    init(_ config: GroundingConfig, rng: RandomGenerator) {
        imageToText = MultiHeadAttention(dModel: config.dModel, heads: config.heads, dropout: 0, rng: rng)
        textToImage = MultiHeadAttention(dModel: config.dModel, heads: config.heads, dropout: 0, rng: rng)
        imageNorm = LayerNorm(config.dModel); textNorm = LayerNorm(config.dModel)
    }

    /// image `[B, N, d]`, text `[B, T, d]` -> both updated.
    func forward(image: Tensor, text: Tensor) -> (image: Tensor, text: Tensor) {
        let (vi, lt) = (imageNorm(image), textNorm(text))
        return (
            image + imageToText.forward(query: vi, key: lt, value: lt),
            text + textToImage.forward(query: lt, key: vi, value: vi)
        )
    }
}
