import ArgumentParser
import Datasets
import Foundation
import Tensor
import VQA

/// `medglip bench vqa`: answering speed and training step time of the default VQA model on
/// random images (untrained weights; decoding runs a fixed number of answer tokens so the number
/// does not depend on when an untrained model happens to stop).
struct VQABench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vqa", abstract: "Time VQA answering and training.")

    @Option(help: "Images per batch.") var images = 8
    @Option(help: "Questions per image.") var questionsPerImage = 8
    @Option(help: "Seconds per measurement (median of repeated runs).") var seconds: Double = 3
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        try Check.atLeast(images, 1, "--images")
        try Check.atLeast(questionsPerImage, 1, "--questions-per-image")
        try Check.positive(seconds, "--seconds")
    }

    func run() throws {
        try threadOptions.apply()
        let bench = try VQABenchmark.make(images: images, questionsPerImage: questionsPerImage)
        let questions = images * questionsPerImage
        var rows: [(String, Double, String)] = []
        for head in VQAHead.allCases {
            let b = bench[head]!
            let answer = medianSeconds(seconds) { b.answer() }
            let train = medianSeconds(seconds) { b.trainStep() }
            rows.append(
                (
                    "\(head.rawValue)_questions_per_s", Double(questions) / answer,
                    "questions/s answering \(questions) questions on \(images) images"
                        + (head == .generate ? " (greedy, \(b.answerTokens) tokens each)" : "")
                ))
            rows.append(("\(head.rawValue)_train_step_ms", train * 1e3, "ms per step: \(questions) questions, forward + backward + AdamW"))
        }
        rows.append(("parameters", Double(bench[.generate]!.parameters), "parameters (generate head)"))
        rows.append(("threads", Double(Threads.count), "threads"))
        if json {
            print("{" + rows.map { "\"\($0.0)\": \(String(format: "%.3f", $0.1))" }.joined(separator: ", ") + "}")
        } else {
            for (n, v, w) in rows { print(n.padding(toLength: 28, withPad: " ", startingAt: 0) + String(format: "%12.2f  ", v) + w) }
        }
    }
}
