import Foundation

/// One (mode, seed) run's final test metrics.
public struct AblationResult: Sendable {
    public var mode: String
    public var seed: Int
    public var metrics: [String: Double]
    public init(mode: String, seed: Int, metrics: [String: Double]) { self.mode = mode; self.seed = seed; self.metrics = metrics }
}

/// Per metric and mode: mean and sample standard deviation over seeds, and the difference of the
/// means from the "none" mode.
public struct AblationSummary: Sendable {
    public struct Cell: Sendable, Equatable { public var mean, std: Double; public var seeds: Int }

    public let modes: [String]
    public let metrics: [String]
    public let cells: [String: [String: Cell]]

    public init(_ results: [AblationResult], modes: [String], metrics: [String]) {
        self.modes = modes; self.metrics = metrics
        var cells: [String: [String: Cell]] = [:]
        for metric in metrics {
            for mode in modes {
                let values = results.filter { $0.mode == mode }.compactMap { $0.metrics[metric] }
                guard !values.isEmpty else { continue }
                let mean = values.reduce(0, +) / Double(values.count)
                let variance = values.count > 1 ? values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1) : 0
                cells[metric, default: [:]][mode] = Cell(mean: mean, std: variance.squareRoot(), seeds: values.count)
            }
        }
        self.cells = cells
    }

    public func delta(_ metric: String, _ mode: String) -> Double? {
        guard let m = cells[metric]?[mode], let base = cells[metric]?["none"] else { return nil }
        return m.mean - base.mean
    }

    /// The table as text: one row per metric, "mean +- std (delta vs none)" per mode.
    public func table(title: String) -> String {
        var lines = [
            title,
            "metric".padding(toLength: 22, withPad: " ", startingAt: 0)
                + modes.map { $0.padding(toLength: 29, withPad: " ", startingAt: 0) }.joined()
        ]
        for metric in metrics {
            var line = metric.padding(toLength: 22, withPad: " ", startingAt: 0)
            for mode in modes {
                guard let c = cells[metric]?[mode] else { line += "-".padding(toLength: 29, withPad: " ", startingAt: 0); continue }
                var text = String(format: "%.4f +- %.4f", c.mean, c.std)
                if mode != "none", let d = delta(metric, mode) { text += String(format: " (%+.4f)", d) }
                line += text.padding(toLength: 29, withPad: " ", startingAt: 0)
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
