/// Why a checkpoint could not be written, read or applied. Messages name the file and the problem.
public enum CheckpointError: Error, CustomStringConvertible {
    case io(path: String, reason: String)
    case malformed(path: String, reason: String)
    case mismatch(what: String, missing: [String], unexpected: [String], misshaped: [String])

    public var description: String {
        switch self {
        case let .io(path, reason): return "\(path): \(reason)"
        case let .malformed(path, reason): return "\(path): not a valid safetensors file: \(reason)"
        case let .mismatch(what, missing, unexpected, misshaped):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing: \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected: \(unexpected.joined(separator: ", "))") }
            if !misshaped.isEmpty { parts.append("mis-shaped: \(misshaped.joined(separator: "; "))") }
            return "\(what) does not match the model (\(parts.joined(separator: "; ")))"
        }
    }
}
