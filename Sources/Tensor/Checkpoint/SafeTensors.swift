import Foundation

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`, then
/// the raw little-endian tensor bytes. Offsets are relative to the end of the header.
public enum SafeTensors {
    /// Writes tensors (float32) and string metadata atomically: a temporary file in the same
    /// folder, flushed to disk, then renamed over `url`, so a crash never leaves half a checkpoint.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, t) in tensors {
            precondition(header[name] == nil, "duplicate tensor name \(name)")
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]]
            offset += 4 * t.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // The format recommends padding the header with spaces to an 8-byte boundary.
        while json.count % 8 != 0 { json.append(0x20) }
        var blob = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { blob.append(contentsOf: $0) }
        blob.append(json)
        for (_, t) in tensors {
            t.data.withUnsafeBytes { blob.append(contentsOf: $0) }  // x86-64 and arm64 are little-endian
        }
        do { try writeAtomically(blob, to: url) } catch let e as FileWriteError {
            throw CheckpointError.io(path: url.path, reason: e.reason)
        }
    }

    /// Reads every tensor as float32 (F32, F16 and BF16 are accepted) and the metadata.
    /// Every size in the header is checked against the file before any value is read.
    public static func read(_ url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let path = url.path
        let blob: Data
        do { blob = try Data(contentsOf: url) } catch {
            throw CheckpointError.io(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        guard blob.count >= 8 else {
            throw CheckpointError.malformed(path: path, reason: "file is \(blob.count) bytes, shorter than the 8-byte header length")
        }
        let headerLength = blob.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(blob.count - 8) else {
            throw CheckpointError.malformed(path: path, reason: "header claims \(headerLength) bytes but only \(blob.count - 8) follow")
        }
        let dataStart = 8 + Int(headerLength)
        guard let header = (try? JSONSerialization.jsonObject(with: blob.subdata(in: 8..<dataStart))) as? [String: Any] else {
            throw CheckpointError.malformed(path: path, reason: "header is not a JSON object")
        }
        let bufferSize = blob.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else {
                    throw CheckpointError.malformed(path: path, reason: "__metadata__ must map strings to strings")
                }
                metadata = m
                continue
            }
            guard let e = value as? [String: Any], let dtype = e["dtype"] as? String,
                let shape = e["shape"] as? [Int], let offsets = e["data_offsets"] as? [Int], offsets.count == 2
            else {
                throw CheckpointError.malformed(path: path, reason: "entry \(name) lacks dtype, shape or data_offsets")
            }
            guard let width = ["F32": 4, "F16": 2, "BF16": 2][dtype] else {
                throw CheckpointError.malformed(path: path, reason: "tensor \(name) has dtype \(dtype); only F32, F16 and BF16 are supported")
            }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= bufferSize else {
                throw CheckpointError.malformed(
                    path: path, reason: "tensor \(name) has offsets \(offsets) outside the \(bufferSize)-byte data buffer")
            }
            // Sizes from the file: multiplied with overflow checks, so a shape like [2^62, 4] is an error, not a trap.
            var bytes: Int? = width
            for d in shape {
                bytes = bytes.flatMap {
                    let (p, o) = $0.multipliedReportingOverflow(by: d); return o ? nil : p
                }
            }
            guard let bytes else {
                throw CheckpointError.malformed(path: path, reason: "tensor \(name) has shape \(shape): its size overflows 64-bit arithmetic")
            }
            guard offsets[1] - offsets[0] == bytes else {
                let reason = "tensor \(name) of shape \(shape) and dtype \(dtype) needs \(bytes) bytes, header gives \(offsets[1] - offsets[0])"
                throw CheckpointError.malformed(path: path, reason: reason)
            }
            entries.append((name, dtype, shape, offsets[0], offsets[1]))
        }
        // The data buffer must be covered exactly, without overlaps or holes.
        var cursor = 0
        for e in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard e.begin == cursor else {
                throw CheckpointError.malformed(
                    path: path, reason: "tensor \(e.name) starts at byte \(e.begin), expected \(cursor) (overlap or hole)")
            }
            cursor = e.end
        }
        guard cursor == bufferSize else {
            throw CheckpointError.malformed(path: path, reason: "\(bufferSize - cursor) trailing bytes after the last tensor")
        }
        var tensors: [String: Tensor] = [:]
        blob.withUnsafeBytes { raw in
            for e in entries {
                let bytes = UnsafeRawBufferPointer(rebasing: raw[(dataStart + e.begin)..<(dataStart + e.end)])
                let n = e.shape.elementCount
                let values: [Float] = (0..<n).map { i in
                    switch e.dtype {
                    case "F32": return Float(bitPattern: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                    case "BF16": return Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
                    default: return Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    }
                }
                tensors[e.name] = Tensor(shape: e.shape, data: values)
            }
        }
        return (tensors, metadata)
    }
}

extension Module {
    /// All parameters and buffers by name, as a checkpoint holds them.
    public func stateDict() -> [String: Tensor] { Dictionary(uniqueKeysWithValues: namedTensors()) }

    /// Copies values into this module by name; fails listing every missing, unexpected and
    /// mis-shaped tensor, and changes nothing unless everything matches.
    public func load(stateDict: [String: Tensor]) throws {
        try assignMatching(target: namedTensors(), from: stateDict, what: "checkpoint", allowUnexpected: false)
    }

    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors.write(namedTensors(), metadata: metadata, to: url)
    }

    /// Loads a safetensors checkpoint; returns its metadata.
    @discardableResult
    public func load(from url: URL) throws -> [String: String] {
        let (tensors, metadata) = try SafeTensors.read(url)
        do { try load(stateDict: tensors) } catch let CheckpointError.mismatch(_, m, u, s) {
            throw CheckpointError.mismatch(what: "checkpoint \(url.path)", missing: m, unexpected: u, misshaped: s)
        }
        return metadata
    }
}
