import CDNNL

/// A oneDNN call that did not succeed.
struct DNNLError: Error, CustomStringConvertible {
    let call: String
    let status: dnnl_status_t
    var description: String { "oneDNN \(call) failed with status \(status.rawValue)" }
}

@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ call: @autoclosure () -> String) throws {
    guard status == dnnl_success else { throw DNNLError(call: call(), status: status) }
}

/// The process's oneDNN CPU engine (nil when oneDNN cannot create one).
final class DNNLEngine: @unchecked Sendable {
    let handle: dnnl_engine_t

    static let shared: DNNLEngine? = try? DNNLEngine()

    private init() throws {
        var engine: dnnl_engine_t?
        try dnnlCheck(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine_create")
        handle = engine!
    }

    deinit { dnnl_engine_destroy(handle) }
}

/// Which instruction set oneDNN's JIT kernels use on this machine, and its version.
public enum DNNLInfo {
    public static var isa: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_sse41: "sse41"
        case dnnl_cpu_isa_avx: "avx"
        case dnnl_cpu_isa_avx2: "avx2"
        case dnnl_cpu_isa_avx2_vnni: "avx2_vnni"
        case dnnl_cpu_isa_avx512_core: "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: "avx512_core_amx"
        case let other: "isa 0x" + String(other.rawValue, radix: 16)
        }
    }

    public static var version: String {
        let v = dnnl_version().pointee
        return "\(v.major).\(v.minor).\(v.patch)"
    }
}

/// Sets how many OpenMP threads oneDNN uses for primitives created or run on the calling thread.
@inline(__always)
func dnnlSetThreads(_ n: Int) { _ = medglip_omp_set_num_threads(Int32(n)) }

/// 64-byte aligned scratch memory for blocked layouts, freed with its owner.
final class AlignedBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer

    init(bytes: Int) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
    }

    var floats: UnsafeMutablePointer<Float> { pointer.assumingMemoryBound(to: Float.self) }

    deinit { pointer.deallocate() }
}

/// A plain (row-major) float32 memory descriptor: nchw, oihw or x.
func plainDescriptor(_ dims: [Int]) throws -> dnnl_memory_desc_t {
    try descriptor(dims, tag: dims.count == 4 ? dnnl_abcd : dnnl_a)
}

/// A descriptor that lets the primitive choose its own (blocked) layout.
func anyDescriptor(_ dims: [Int]) throws -> dnnl_memory_desc_t { try descriptor(dims, tag: dnnl_format_tag_any) }

private func descriptor(_ dims: [Int], tag: dnnl_format_tag_t) throws -> dnnl_memory_desc_t {
    var md = dnnl_memory_desc_t()
    let d = dims.map { Int64($0) }
    try dnnlCheck(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, dnnl_f32, tag), "memory_desc_init_by_tag \(dims)")
    return md
}

func sameLayout(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
    withUnsafePointer(to: a) { pa in withUnsafePointer(to: b) { pb in dnnl_memory_desc_equal(pa, pb) != 0 } }
}

func byteSize(_ md: dnnl_memory_desc_t) -> Int { withUnsafePointer(to: md) { Int(dnnl_memory_desc_get_size($0)) } }

/// One created primitive; executions pass their own scratchpad, so workers may run it concurrently.
final class DNNLPrimitive: @unchecked Sendable {
    private let handle: dnnl_primitive_t
    private let scratchpad: dnnl_memory_desc_t
    let implementation: String

    init(_ pd: dnnl_primitive_desc_t) throws {
        var primitive: dnnl_primitive_t?
        try dnnlCheck(dnnl_primitive_create(&primitive, pd), "primitive_create")
        handle = primitive!
        scratchpad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0).pointee
        var info: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info)
        implementation = info.map { String(cString: $0) } ?? "unknown"
    }

    deinit { dnnl_primitive_destroy(handle) }

    /// Runs the primitive on user buffers (`arguments`: oneDNN argument id, layout, data).
    func execute(_ arguments: [(Int32, dnnl_memory_desc_t, UnsafeRawPointer)]) {
        guard let engine = DNNLEngine.shared?.handle else { preconditionFailure("oneDNN engine vanished") }
        let scratch = byteSize(scratchpad) > 0 ? AlignedBuffer(bytes: byteSize(scratchpad)) : nil
        var all = arguments
        if let scratch { all.append((DNNL_ARG_SCRATCHPAD, scratchpad, UnsafeRawPointer(scratch.pointer))) }
        var memories: [dnnl_memory_t?] = []
        defer { for m in memories { dnnl_memory_destroy(m) } }
        var args: [dnnl_exec_arg_t] = []
        for (arg, md, data) in all {
            var memory: dnnl_memory_t?
            var desc = md
            let status = dnnl_memory_create(&memory, &desc, engine, UnsafeMutableRawPointer(mutating: data))
            precondition(status == dnnl_success, "oneDNN memory_create failed with status \(status.rawValue)")
            memories.append(memory)
            args.append(dnnl_exec_arg_t(arg: arg, memory: memory))
        }
        var stream: dnnl_stream_t?
        precondition(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success, "oneDNN stream_create failed")
        defer { dnnl_stream_destroy(stream) }
        let status = dnnl_primitive_execute(handle, stream, Int32(args.count), args)
        precondition(status == dnnl_success, "oneDNN \(implementation) failed with status \(status.rawValue)")
        precondition(dnnl_stream_wait(stream) == dnnl_success, "oneDNN stream_wait failed")
    }
}

/// Creates a primitive descriptor from an op descriptor, with user-managed scratchpad.
func primitiveDescriptor<D>(_ desc: inout D, hint: dnnl_primitive_desc_t? = nil, _ call: String) throws -> dnnl_primitive_desc_t {
    guard let engine = DNNLEngine.shared?.handle else { throw DNNLError(call: "engine_create", status: dnnl_runtime_error) }
    let attr = try userScratchpadAttributes()
    defer { dnnl_primitive_attr_destroy(attr) }
    var pd: dnnl_primitive_desc_t?
    try withUnsafePointer(to: &desc) { d in
        try dnnlCheck(dnnl_primitive_desc_create(&pd, UnsafeRawPointer(d), attr, engine, hint), call)
    }
    return pd!
}

/// Attributes asking for a scratchpad passed at execution, so that concurrent executions never share one.
private func userScratchpadAttributes() throws -> dnnl_primitive_attr_t? {
    var attr: dnnl_primitive_attr_t?
    try dnnlCheck(dnnl_primitive_attr_create(&attr), "primitive_attr_create")
    try dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "set_scratchpad_mode")
    return attr
}

/// A move between a plain user layout and a primitive's own layout (no primitive when they are equal).
struct DNNLLayout: @unchecked Sendable {
    let user: dnnl_memory_desc_t
    let primitive: dnnl_memory_desc_t
    private let toPrimitive: DNNLPrimitive?
    private let toUser: DNNLPrimitive?

    init(user: dnnl_memory_desc_t, primitive: dnnl_memory_desc_t, inbound: Bool, outbound: Bool) throws {
        self.user = user
        self.primitive = primitive
        let same = sameLayout(user, primitive)
        toPrimitive = same || !inbound ? nil : try DNNLLayout.reorder(user, primitive)
        toUser = same || !outbound ? nil : try DNNLLayout.reorder(primitive, user)
    }

    var isPlain: Bool { sameLayout(user, primitive) }
    var bytes: Int { byteSize(primitive) }

    /// The data in the primitive's layout: `data` itself when the layouts agree, else a reordered copy.
    func inbound(_ data: UnsafeRawPointer) -> (UnsafeRawPointer, AlignedBuffer?) {
        guard let toPrimitive else { return (data, nil) }
        let buffer = AlignedBuffer(bytes: bytes)
        toPrimitive.execute([(DNNL_ARG_FROM, user, data), (DNNL_ARG_TO, primitive, UnsafeRawPointer(buffer.pointer))])
        return (UnsafeRawPointer(buffer.pointer), buffer)
    }

    /// Runs `produce` on a buffer in the primitive's layout and leaves the result, in the user layout, at `destination`.
    func outbound(_ destination: UnsafeMutableRawPointer, _ produce: (UnsafeRawPointer) -> Void) {
        guard let toUser else { produce(UnsafeRawPointer(destination)); return }
        let buffer = AlignedBuffer(bytes: bytes)
        produce(UnsafeRawPointer(buffer.pointer))
        toUser.execute([(DNNL_ARG_FROM, primitive, UnsafeRawPointer(buffer.pointer)), (DNNL_ARG_TO, user, UnsafeRawPointer(destination))])
    }

    private static func reorder(_ from: dnnl_memory_desc_t, _ to: dnnl_memory_desc_t) throws -> DNNLPrimitive {
        guard let engine = DNNLEngine.shared?.handle else { throw DNNLError(call: "engine_create", status: dnnl_runtime_error) }
        let attr = try userScratchpadAttributes()
        defer { dnnl_primitive_attr_destroy(attr) }
        var pd: dnnl_primitive_desc_t?
        var (f, t) = (from, to)
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &f, engine, &t, engine, attr), "reorder_primitive_desc_create")
        defer { dnnl_primitive_desc_destroy(pd) }
        return try DNNLPrimitive(pd!)
    }
}
