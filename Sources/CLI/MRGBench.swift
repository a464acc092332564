import ArgumentParser
import Foundation
import ReportGen
import Tensor

/// `medglip bench mrg`: R2Gen training and generation speed on random studies (speed does not
/// depend on the weights): a training step of batch 16, two views, 60 tokens, for the CPU and
/// the paper preset; generation with beam 3 using cached keys/values, and the same decoding
/// recomputing the whole prefix each step as R2Gen does (greedy, so the two do equal work).
struct MRGBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mrg", abstract: "Time R2Gen training and report generation.")

    @Option(help: "Studies per training batch.") var batchSize = 16
    @Option(help: "Vocabulary size (R2Gen's IU-Xray vocabulary has 760 words).") var vocabulary = 760
    @Option(help: "Seconds per measurement (median of repeated runs).") var seconds: Double = 3
    @Flag(help: "Skip the paper preset (slow).") var cpuOnly = false
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        try Check.atLeast(batchSize, 1, "--batch-size")
        try Check.atLeast(vocabulary, 1, "--vocabulary")
        try Check.positive(seconds, "--seconds")
    }

    func run() throws {
        try threadOptions.apply()
        var rows: [(String, Double, String)] = []
        for preset in cpuOnly ? [ReportGenConfig.Preset.cpu] : [.cpu, .paper] {
            let config = ReportGenConfig.preset(preset, dataset: .iuXray)
            let model = R2GenModel(config, vocabularySize: vocabulary + 1, seed: 0)
            let rng = RandomGenerator(seed: 1)
            let s = config.imageSize, length = config.dataset.maxSequenceLength
            let images = Tensor.uniform([batchSize * 2, 1, s, s], -2, 2, rng: rng)
            let step = medianSeconds(seconds, model.trainingStepTimer(batchSize: batchSize, vocabulary: vocabulary, rng: rng))
            let visual = medianSeconds(seconds) { model.attentionFeatures(images, views: 2).sum().backward() }
            let tokens = Double(batchSize * (length - 1))
            rows.append(
                (
                    "\(preset)_train_step_ms", step * 1e3,
                    "ms per step: batch \(batchSize), two \(s) px views, \(length) tokens (\(model.parameterCount) parameters)"
                ))
            rows.append(("\(preset)_visual_ms", visual * 1e3, "ms of it in the visual extractor (forward + backward)"))
            rows.append(("\(preset)_train_tokens_per_s", tokens / step, "training tokens/s"))
            let generator = ReportGenerator(
                ReportRunConfig(model: config, dataDir: "", seed: 0),
                tokenizer: ReportTokenizer(trainingReports: [], dataset: .iuXray, threshold: 1))
            let loadSize = s * 8 / 7
            let studies = (0..<batchSize).map { i in
                ReportExample(
                    id: "\(i)", report: "x", sequence: [0, 0], pixels: (0..<(2 * loadSize * loadSize)).map { _ in rng.uniform() }, labels: [])
            }
            // The untrained one-word vocabulary never ends a report early: every report runs to the full length.
            let beam = medianSeconds(seconds) { _ = generator.generate(studies, beamSize: 3) }
            rows.append(
                ("\(preset)_beam3_reports_per_s", Double(batchSize) / beam, "reports/s, beam 3, \(length - 1) tokens each, cached keys/values"))
            let cached = medianSeconds(seconds) { _ = generator.generate(studies, beamSize: 1) }
            let recompute = medianSeconds(seconds) {
                _ = greedyRecomputingPrefix(model, images: generator.loader.batch(studies, rngs: nil), length: length)
            }
            rows.append(("\(preset)_greedy_cached_reports_per_s", Double(batchSize) / cached, "reports/s, greedy, cached keys/values"))
            rows.append(
                (
                    "\(preset)_greedy_recompute_reports_per_s", Double(batchSize) / recompute,
                    "reports/s, greedy, whole prefix recomputed per step (R2Gen)"
                ))
        }
        rows.append(("threads", Double(Threads.count), "threads"))
        if json {
            print("{" + rows.map { "\"\($0.0)\": \(String(format: "%.3f", $0.1))" }.joined(separator: ", ") + "}")
        } else {
            for (n, v, w) in rows { print(n.padding(toLength: 38, withPad: " ", startingAt: 0) + String(format: "%10.2f  ", v) + w) }
        }
    }

    /// Greedy decoding the way R2Gen's sampler does it: the decoder reruns over the whole prefix for every new token.
    func greedyRecomputingPrefix(_ model: R2GenModel, images: Tensor, length: Int) -> [[Int]] {
        model.eval()
        return withNoGrad {
            let encoded = model.encode(model.attentionFeatures(images, views: 2))
            let b = encoded.memory.shape[0]
            var prefixes = [[Int]](repeating: [0], count: b)
            for t in 1..<length {
                let logProbs = model.forward(encoded: encoded, ids: prefixes.flatMap { $0 }, length: t)
                let v = logProbs.shape[2]
                for i in 0..<b {
                    let row = logProbs.data[((i * t + t - 1) * v)..<((i * t + t) * v)]
                    prefixes[i].append(row.indices.max { row[$0] < row[$1] }! - (i * t + t - 1) * v)
                }
            }
            return prefixes
        }
    }
}
