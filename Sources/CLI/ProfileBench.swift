import ArgumentParser
import Foundation
import Grounding
import ReportGen
import Tensor
import VQA

/// `medglip bench profile`: where one training step of a model spends its time.
struct ProfileBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Time one training step per op kind (forward and backward apart), per model part and per phase.")

    enum Task: String, ExpressibleByArgument, CaseIterable {
        case ground, mrg, vqa, layer
    }

    @Option(
        help: """
            Model to profile: ground (Med-GLIP at 256 px, batch 8), mrg (R2Gen's CPU preset, batch 16), vqa (8 images x 8 questions), \
            layer (bench engine's transformer encoder layer).
            """)
    var task: Task
    @Option(help: "Steps to average, after one unprofiled warm-up step.") var steps = 5
    @Option(help: "Rows of the per-op table to print (the JSON has all).") var top = 25
    @Flag(help: "Print one JSON object (the model's configuration included, for bench/peer).") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        try threadOptions.apply()
        let target = try ProfileTarget(task)
        target.step()
        let profiler = Profiler()
        let cpuBefore = ThreadCPUTimes.sample(), start = DispatchTime.now().uptimeNanoseconds
        Profiler.$current.withValue(profiler) { for _ in 0..<steps { target.step() } }
        let wallNs = DispatchTime.now().uptimeNanoseconds - start
        let cpu = CPUUse(during: ThreadCPUTimes.sample().since(cpuBefore), wallNs: wallNs)
        let stepMs = Double(wallNs) / 1e6 / Double(steps)
        let rows = profiler.rows(steps: steps), phases = profiler.phaseMs(steps: steps)
        if json {
            try printProfileJSON(target, stepMs: stepMs, rows: rows, phases: phases, cpu: cpu)
        } else {
            printTable(target, stepMs: stepMs, rows: rows, phases: phases)
            cpu.print()
        }
    }

    private func printTable(_ target: ProfileTarget, stepMs: Double, rows: [Profiler.Row], phases: [Profiler.Phase: Double]) {
        print("\(task.rawValue): \(target.what), \(target.parameters) parameters, \(Threads.count) threads, \(steps) steps")
        print(String(format: "step %.1f ms", stepMs))
        for phase in Profiler.Phase.allCases {
            let ms = phases[phase] ?? 0
            let name = phase.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)
            print("  " + name + String(format: "%9.1f ms %6.1f%%", ms, 100 * ms / stepMs))
        }
        print("\nby model part (forward + backward, ms per step)")
        var byPart: [String: Double] = [:]
        for r in rows { byPart[r.part, default: 0] += r.totalMs }
        for (part, ms) in byPart.sorted(by: { $0.value > $1.value }) {
            print("  " + part.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: "%9.1f ms %6.1f%%", ms, 100 * ms / stepMs))
        }
        print("\nby op (ms per step)")
        print(
            "  " + "op".padding(toLength: 22, withPad: " ", startingAt: 0) + "part".padding(toLength: 26, withPad: " ", startingAt: 0)
                + "   forward  backward   share  calls")
        for r in rows.prefix(top) {
            print(
                "  " + r.op.padding(toLength: 22, withPad: " ", startingAt: 0) + r.part.padding(toLength: 26, withPad: " ", startingAt: 0)
                    + String(format: "%10.2f%10.2f%7.1f%%%7.0f", r.forwardMs, r.backwardMs, 100 * r.totalMs / stepMs, r.callsPerStep))
        }
        if rows.count > top { print("  ... \(rows.count - top) more (--top, --json)") }
        let opBackward = rows.reduce(0) { $0 + $1.backwardMs }
        print(String(format: "\nbackward outside op kernels (graph walk, freeing): %.1f ms", max(0, (phases[.backward] ?? 0) - opBackward)))
    }

    private func printProfileJSON(
        _ target: ProfileTarget, stepMs: Double, rows: [Profiler.Row], phases: [Profiler.Phase: Double],
        cpu: CPUUse
    ) throws {
        let object: [String: Any] = [
            "cpu_cores_busy": cpu.coresBusy, "threads_ran": cpu.threadsRan, "idle_cpu_ms": cpu.idleCPUMs,
            "task": task.rawValue, "step_ms": stepMs, "parameters": target.parameters, "batch": target.batch,
            "threads": Threads.count, "steps": steps,
            "phases_ms": Dictionary(uniqueKeysWithValues: Profiler.Phase.allCases.map { ($0.rawValue, phases[$0] ?? 0) }),
            "ops": rows.map { ["op": $0.op, "part": $0.part, "forward_ms": $0.forwardMs, "backward_ms": $0.backwardMs, "calls": $0.callsPerStep] },
            "config": try JSONSerialization.jsonObject(with: target.config)
        ]
        try printJSON(object)
    }
}

/// How many cores the profiled steps kept busy, and the CPU the process burns right after them
/// while idle: a pool that spins (OpenMP's or OpenBLAS's busy-wait) shows as cores above `--threads`
/// during the steps, or as CPU time while idle.
struct CPUUse {
    let coresBusy: Double
    let threadsRan: Int
    let idleCPUMs: Double
    static let idleNs: UInt64 = 200_000_000

    init(during: [Int: UInt64], wallNs: UInt64) {
        coresBusy = Double(during.values.reduce(0, +)) / Double(max(wallNs, 1))
        threadsRan = during.values.filter { $0 > wallNs / 100 }.count
        let before = ThreadCPUTimes.sample()
        Thread.sleep(forTimeInterval: Double(Self.idleNs) / 1e9)
        idleCPUMs = Double(ThreadCPUTimes.sample().since(before).values.reduce(0, +)) / 1e6
    }

    func print() {
        Swift.print(
            String(
                format: "CPU: %.2f cores busy on average over the steps (--threads %d), %d threads ran (over 1%% of the time);",
                coresBusy, Threads.count, threadsRan))
        Swift.print(
            String(
                format: "     %.1f ms on a CPU in %.0f ms idle after them (a spinning pool would burn it here)",
                idleCPUMs, Double(Self.idleNs) / 1e6))
    }
}

/// The training step each task's profile runs: the same step `bench grounding|mrg|vqa` times.
struct ProfileTarget {
    let step: () -> Void
    let parameters: Int, batch: Int
    let what: String
    /// The model's configuration as its runs record it in config.json.
    let config: Data

    init(_ task: ProfileBench.Task) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let rng = RandomGenerator(seed: 1)
        switch task {
        case .ground:
            let phrases = ["nodule", "mass", "pleural effusion", "pneumothorax", "consolidation", "heart", "right lung", "left lung"]
            var model = GroundingConfig()
            model.modalities = ["X-ray"]
            let run = GroundingRunConfig(
                model: model, imageSize: 256, prompts: ["X-ray": phrases],
                tokenizer: SubwordTokenizer(learningFrom: phrases + phrases))
            let grounder = try Grounder(run, seed: 0)
            (batch, parameters, config) = (8, grounder.model.parameterCount, try encoder.encode(run))
            step = try grounder.trainingStepTimer(batchSize: batch, rng: rng)
            what = "Med-GLIP training step, batch 8 at 256 px, random images (no data loading)"
        case .mrg:
            let model = ReportGenConfig.preset(.cpu, dataset: .iuXray)
            let r2gen = R2GenModel(model, vocabularySize: 761, seed: 0)
            (batch, parameters, config) = (16, r2gen.parameterCount, try encoder.encode(model))
            step = r2gen.trainingStepTimer(batchSize: batch, vocabulary: 760, rng: rng)
            what = "R2Gen CPU preset training step, batch 16, random studies (no data loading)"
        case .layer:
            let encoder = TransformerEncoderLayer(dModel: 512, heads: 8, dFF: 2048, dropout: 0.1, rng: rng)
            let tokens = Tensor.randn([16, 98, 512], rng: rng, requiresGrad: true)
            let seed = [Float](repeating: 1, count: tokens.count)
            let shape = #"{"d_model": 512, "heads": 8, "d_ff": 2048, "dropout": 0.1}"#
            (batch, parameters, config) = (16, encoder.parameterCount, Data(shape.utf8))
            step = {
                Profiler.enter(.forward)
                let y = encoder.forward(tokens)
                Profiler.enter(.backward)
                y.backward(seed: seed)
                Profiler.enter(nil)
                encoder.zeroGrad(); tokens.grad = nil
            }
            what = "pre-norm encoder layer d 512, 8 heads, d_ff 2048, 16 x 98 tokens, forward + backward (no optimizer)"
        case .vqa:
            let bench = try VQABenchmark.make(images: 8, questionsPerImage: 8)[.generate]!
            (batch, parameters, config) = (64, bench.parameters, try encoder.encode(bench.config))
            step = bench.trainStep
            what = "VQA training step (generate head), 8 images x 8 questions"
        }
    }
}
