import Foundation
import XCTest

@testable import Tensor

final class CheckpointTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("medglip-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    final class Net: Module {
        let encoder: [TransformerEncoderLayer]
        let head: Linear
        let norm: BatchNorm2d
        init(seed: UInt64, out: Int = 3) {
            let rng = RandomGenerator(seed: seed)
            encoder = [TransformerEncoderLayer(dModel: 8, heads: 2, dFF: 16, rng: rng)]
            head = Linear(8, out, rng: rng)
            norm = BatchNorm2d(4)
        }
    }

    func testParameterNamesAreHierarchicalSnakeCase() {
        let names = Set(Net(seed: 1).namedTensors().map(\.0))
        XCTAssertTrue(names.contains("encoder.0.self_attn.q_proj.weight"))
        XCTAssertTrue(names.contains("encoder.0.feed_forward.fc2.bias"))
        XCTAssertTrue(names.contains("norm.running_mean"))
        XCTAssertFalse(Net(seed: 1).namedParameters().map(\.0).contains("norm.running_mean"), "buffers are not parameters")
    }

    func testRoundTripRestoresEveryTensorBitwise() throws {
        let a = Net(seed: 1), b = Net(seed: 2)
        a.norm.runningMean.data = [0.5, -1, 2, 3]
        let url = dir.appendingPathComponent("model.safetensors")
        try a.save(to: url, metadata: ["epoch": "7"])
        XCTAssertNotEqual(a.head.weight.data, b.head.weight.data)
        let meta = try b.load(from: url)
        XCTAssertEqual(meta["epoch"], "7")
        let sa = a.stateDict(), sb = b.stateDict()
        XCTAssertEqual(sa.keys.sorted(), sb.keys.sorted())
        for (k, t) in sa { XCTAssertEqual(t.data.map(\.bitPattern), sb[k]!.data.map(\.bitPattern), k) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("tmp") }
        XCTAssertEqual(leftovers, [], "atomic write leaves no temporary file")
    }

    func testReadsFileWrittenByReferenceImplementation() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/python_written.safetensors")
        let (tensors, meta) = try SafeTensors.read(url)
        XCTAssertEqual(meta, ["writer": "safetensors.numpy"])
        XCTAssertEqual(tensors["layer.weight"]?.shape, [2, 3])
        XCTAssertEqual(tensors["layer.weight"]?.data, [-0.5, -0.25, 0, 0.25, 0.5, 0.75])
        XCTAssertEqual(tensors["half"]?.data, [1.5, -2.25, 65504, 0.000061035156])
    }

    /// Builds a file by hand from a header string and a payload size.
    func rawFile(_ header: String, payload: Int, name: String) throws -> URL {
        var blob = Data()
        let h = Data(header.utf8)
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { blob.append(contentsOf: $0) }
        blob.append(h)
        blob.append(Data(count: payload))
        let url = dir.appendingPathComponent(name)
        try blob.write(to: url)
        return url
    }

    func assertMalformed(_ url: URL, mentions: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors.read(url), file: file, line: line) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains(url.lastPathComponent), "error names the file: \(text)", file: file, line: line)
            XCTAssertTrue(text.contains(mentions), "error says '\(mentions)': \(text)", file: file, line: line)
        }
    }

    func testRejectsHeaderThatLiesAboutSizes() throws {
        // Shape [4] float32 needs 16 bytes; the header claims 8.
        let lying = try rawFile(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}"#, payload: 8, name: "lying.safetensors")
        assertMalformed(lying, mentions: "needs 16 bytes")
        // Offsets past the end of the file.
        let past = try rawFile(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, payload: 12, name: "short.safetensors")
        assertMalformed(past, mentions: "outside the 12-byte data buffer")
        // Overlapping tensors.
        let overlap = try rawFile(
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            payload: 12, name: "overlap.safetensors")
        assertMalformed(overlap, mentions: "overlap or hole")
        // Shapes whose byte size overflows 64 bits: an error, not an arithmetic trap.
        let huge = try rawFile(#"{"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,8]}}"#, payload: 8, name: "huge.safetensors")
        assertMalformed(huge, mentions: "overflows")
        let square = try rawFile(
            #"{"w":{"dtype":"F16","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,8]}}"#,
            payload: 8, name: "square.safetensors")
        assertMalformed(square, mentions: "overflows")
    }

    func testRejectsTruncatedAndGarbageFiles() throws {
        let a = Net(seed: 1)
        let good = dir.appendingPathComponent("good.safetensors")
        try a.save(to: good)
        let bytes = try Data(contentsOf: good)
        let truncated = dir.appendingPathComponent("truncated.safetensors")
        try bytes.prefix(bytes.count - 10).write(to: truncated)
        assertMalformed(truncated, mentions: "outside the")
        let header = dir.appendingPathComponent("header.safetensors")
        try Data([0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 1, 2, 3]).write(to: header)
        assertMalformed(header, mentions: "header claims 65535 bytes")
        let notJSON = try rawFile("not json at all", payload: 0, name: "notjson.safetensors")
        assertMalformed(notJSON, mentions: "not a JSON object")
        let dtype = try rawFile(#"{"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, payload: 8, name: "dtype.safetensors")
        assertMalformed(dtype, mentions: "dtype I64")
        XCTAssertThrowsError(try SafeTensors.read(dir.appendingPathComponent("absent.safetensors"))) { error in
            XCTAssertTrue(String(describing: error).contains("no such file"), "\(error)")
        }
    }

    func testLoadingMismatchedModelListsEveryProblemAndChangesNothing() throws {
        let url = dir.appendingPathComponent("three.safetensors")
        try Net(seed: 1, out: 3).save(to: url)
        let other = Net(seed: 2, out: 5)
        let before = other.head.bias!.data
        XCTAssertThrowsError(try other.load(from: url)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("head.weight: expected [5, 8], found [3, 8]"), text)
            XCTAssertTrue(text.contains("head.bias: expected [5], found [3]"), text)
            XCTAssertTrue(text.contains("three.safetensors"), text)
        }
        XCTAssertEqual(other.head.bias!.data, before)
        // A state dict with an extra and a missing tensor.
        var state = Net(seed: 1).stateDict()
        state["extra.weight"] = Tensor.zeros([1])
        state["head.bias"] = nil
        XCTAssertThrowsError(try Net(seed: 3).load(stateDict: state)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("missing: head.bias"), text)
            XCTAssertTrue(text.contains("unexpected: extra.weight"), text)
        }
    }

    func testOptimizerStateRoundTrips() throws {
        let rng = RandomGenerator(seed: 5)
        let w = Tensor.randn([3, 3], rng: rng, requiresGrad: true)
        let adam = Adam([ParamGroup([w], lr: 0.1)], amsgrad: true)
        for _ in 0..<3 { adam.zeroGrad(); (w * w).sum().backward(); adam.step() }
        let url = dir.appendingPathComponent("opt.safetensors")
        try SafeTensors.write(adam.stateTensors(), to: url)
        let resumed = Adam([ParamGroup([w], lr: 0.1)], amsgrad: true)
        try resumed.loadState(SafeTensors.read(url).tensors)
        XCTAssertEqual(resumed.stateTensors().map(\.1.data), adam.stateTensors().map(\.1.data))
        XCTAssertEqual(resumed.stateTensors().first?.1.data, [3], "step count travels with the moments")
    }
}
