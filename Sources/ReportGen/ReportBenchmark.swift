import Tensor

extension R2GenModel {
    /// A closure running one training step of R2Gen's recipe (Adam with AMSGrad, gradient values
    /// clipped at 0.1) on random studies: two views of `config.imageSize` pixels and full-length
    /// reports over `vocabulary` words. Speed does not depend on the weights or the words.
    public func trainingStepTimer(batchSize: Int, vocabulary: Int, rng: RandomGenerator) -> () -> Void {
        let s = config.imageSize, length = config.dataset.maxSequenceLength
        let images = Tensor.uniform([batchSize * 2, 1, s, s], -2, 2, rng: rng)
        let sequences = (0..<batchSize).map { _ in [0] + (0..<(length - 2)).map { _ in 1 + rng.int(vocabulary) } + [0] }
        let optimizer = Adam([ParamGroup(parameters(), lr: 1e-4, weightDecay: 5e-5)], amsgrad: true)
        train()
        return { [self] in
            Profiler.enter(.forward)
            let loss = self.loss(encoded: encode(attentionFeatures(images, views: 2)), sequences: sequences)
            optimizer.zeroGrad()
            Profiler.enter(.backward)
            loss.backward()
            Profiler.enter(.optimizer)
            clipGradValue(parameters(), 0.1)
            optimizer.step()
            Profiler.enter(nil)
        }
    }
}
