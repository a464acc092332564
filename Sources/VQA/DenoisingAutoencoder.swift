import Tensor

/// MEVF's other image-encoder warm start (Nguyen et al. 2019), the convolutional denoising
/// auto-encoder: the vision encoder sees an image with Gaussian noise added and must keep enough in
/// each patch token to redraw that patch of the clean image. It needs no labels, so it works on
/// VQA-RAD, which has no boxes for `LocalizationHead`. The decoder is one linear layer per patch
/// (as MAE's is a light one), so what it learns has to live in the encoder's tokens. Training only:
/// the decoder is dropped after pre-training.
final class PatchDecoder: Module {
    let linear: Linear
    let patchSide: Int

    /// `width`: channels of the encoder's last map; `patchSide`: image pixels per patch side.
    init(width: Int, patchSide: Int, rng: RandomGenerator) {
        linear = Linear(width, patchSide * patchSide, rng: rng)
        self.patchSide = patchSide
    }

    /// Mean squared error between each patch token's reconstruction and the clean image's patch:
    /// `map` `[B, C, g, g]` from the noisy images, `clean` `[B, 1, g * p, g * p]`.
    func loss(_ map: Tensor, clean: Tensor) -> Tensor {
        let difference = linear(map.spatialTokens()) - Self.patches(clean, side: patchSide)
        return (difference * difference).mean()
    }

    /// `[B, 1, g * p, g * p]` -> `[B, g * g, p * p]`: the pixels of each patch in raster order,
    /// patches in the encoder's token order (row by row).
    static func patches(_ images: Tensor, side p: Int) -> Tensor {
        let (b, s) = (images.shape[0], images.shape[2])
        let g = s / p
        return images.reshaped([b, g, p, g, p]).permuted([0, 1, 3, 2, 4]).reshaped([b, g * g, p * p])
    }

    /// `images` with independent Gaussian noise of standard deviation `std` on every pixel.
    static func corrupted(_ images: Tensor, std: Float, rng: RandomGenerator) -> Tensor {
        images + Tensor.randn(images.shape, std: std, rng: rng)
    }
}
