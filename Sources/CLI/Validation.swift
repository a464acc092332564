import ArgumentParser

/// Range checks for `validate()`: a count, size or rate that would trap or mean nothing later is a
/// usage error now, naming the option and the value.
enum Check {
    static func atLeast<T: BinaryInteger>(_ value: T, _ minimum: T, _ option: String) throws {
        guard value >= minimum else { throw ValidationError("\(option) must be at least \(minimum), got \(value)") }
    }

    /// A learning rate, a weight or a time budget: finite and above zero (or zero where allowed).
    static func positive<T: BinaryFloatingPoint>(_ value: T, _ option: String, orZero: Bool = false) throws {
        guard value.isFinite, value > 0 || (orZero && value == 0) else {
            throw ValidationError("\(option) must be a finite number \(orZero ? ">= 0" : "> 0"), got \(value)")
        }
    }

    /// A probability or score threshold.
    static func within<T: BinaryFloatingPoint>(_ value: T, _ range: ClosedRange<T>, _ option: String) throws {
        guard value.isFinite, range.contains(value) else {
            throw ValidationError("\(option) must be in [\(range.lowerBound), \(range.upperBound)], got \(value)")
        }
    }
}

/// A dataset split an evaluation reads.
enum DataSplit: String, ExpressibleByArgument, CaseIterable {
    case train, val, test
}

/// The splits a held-out evaluation reads (the training split is not scored).
enum EvaluationSplit: String, ExpressibleByArgument, CaseIterable {
    case val, test
}
