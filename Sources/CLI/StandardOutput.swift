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
