// The C library alone, imported first: through Foundation, `stdout` is not concurrency-safe.
#if canImport(Glibc)
    @preconcurrency import Glibc
#elseif canImport(Darwin)
    @preconcurrency import Darwin
#endif

/// Flushes stdout at every line, so progress written to a file or a pipe shows up as it happens.
public func lineBufferStandardOutput() {
    setvbuf(stdout, nil, _IOLBF, 0)
}

/// Runs `body` with standard output sent to standard error when `json` (progress lines, many
/// printed by library code, must not mix into the JSON a pipe reads); `emit` writes the JSON to the
/// real standard output.
func withJSONOutput<T>(_ json: Bool, _ body: (_ emit: (String) -> Void) throws -> T) rethrows -> T {
    guard json else { return try body { print($0) } }
    fflush(stdout)
    let saved = dup(STDOUT_FILENO)
    dup2(STDERR_FILENO, STDOUT_FILENO)
    defer {
        fflush(stdout)
        dup2(saved, STDOUT_FILENO)
        close(saved)
    }
    return try body { text in
        let line = Array((text + "\n").utf8)
        _ = line.withUnsafeBytes { write(saved, $0.baseAddress, $0.count) }
    }
}
