import Foundation
import Formats
import Testing

@Suite("PyTorch pickles")
struct PyTorchPickleTests {
    /// Decodes hand-written pickle bytes.
    static func decode(_ bytes: [UInt8]) throws -> PickleValue {
        try PyTorchPickle.decode(Data(bytes), file: "test.pkl")
    }

    /// The reason of a `malformedPickle` error, or `nil` (with an issue) for anything else.
    static func malformedReason(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        let error = formatError(sourceLocation: sourceLocation) { try decode(bytes) }
        guard case let .malformedPickle(file, _, reason)? = error, file == "test.pkl" else {
            Issue.record("expected a malformed pickle error, got \(String(describing: error))", sourceLocation: sourceLocation)
            return nil
        }
        return reason
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    // MARK: Values written by Python's pickler

    /// The value `make_pytorch_fixtures.py` pickles into `plain_p2.pkl` … `plain_p5.pkl`.
    static let plain: PickleValue = {
        let shared: PickleValue = .list([.int(1)])
        let entries: [(String, PickleValue)] = [
            ("none", .none), ("true", .bool(true)), ("false", .bool(false)),
            ("ints", .list([
                .int(0), .int(1), .int(255), .int(256), .int(65535), .int(65536), .int(-1), .int(-5),
                .int(2_147_483_647), .int(-2_147_483_648), .int(1 << 40), .int(Int.min), .int(Int.max),
                .bigInt([0, 0, 0, 0, 0, 0, 0, 0, 0x40]), .bigInt([0, 0, 0, 0, 0, 0, 0, 0, 0xC0]),
            ])),
            ("float", .float(-1.5)), ("text", .string("é ☃")), ("bytes", .bytes([0x00, 0xFF])), ("empty", .bytes([])),
            ("array", .bytes(Array("ab".utf8))),
            ("tuple", .tuple([.int(1), .tuple([.int(2)]), .tuple([])])),
            ("nested", .dict([.init(key: .string("k"), value: .list([.list([])]))])),
            ("shared", .list([shared, shared])),
            ("set", .set([.int(1), .int(3)])), ("frozen", .set([.int(2)])),
            ("keys", .dict([
                .init(key: .int(7), value: .string("seven")),
                .init(key: .tuple([.int(1), .string("a")]), value: .string("tuple")),
            ])),
            ("ordered", .dict([.init(key: .string("y"), value: .int(2)), .init(key: .string("x"), value: .int(1))])),
        ]
        return .dict(entries.map { PickleValue.Entry(key: .string($0.0), value: $0.1) })
    }()

    @Test("decodes plain values pickled by Python", arguments: 2...5)
    func pythonPickles(protocolVersion: Int) throws {
        let data = try Data(contentsOf: Fixtures.pytorch("plain_p\(protocolVersion).pkl"))
        let value = try PyTorchPickle.decode(data, file: "plain.pkl")
        #expect(value == Self.plain)
        #expect(value["ordered"] == Self.plain["ordered"])
        #expect(value["text"]?.stringValue == "é ☃")
    }

    // MARK: Memo semantics and limits

    @Test("a memoized list filled later is fetched filled, as Python's memo holds references")
    func memoHoldsReferences() throws {
        // MARK, EMPTY_LIST, BINPUT 0, BINGET 0, BININT1 5, APPEND, TUPLE, STOP: (L, L) with L = [5].
        let value = try Self.decode([0x80, 0x02, 0x28, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x4B, 0x05, 0x61, 0x74, 0x2E])
        #expect(value == .tuple([.list([.int(5)]), .list([.int(5)])]))
    }

    @Test("a later SETITEM on an existing key keeps the key's place")
    func duplicateKeys() throws {
        // {'a': 1, 'b': 2, 'a': 3} built with SETITEMS.
        let value = try Self.decode(
            [0x7D, 0x28, 0x8C, 0x01, 0x61, 0x4B, 0x01, 0x8C, 0x01, 0x62, 0x4B, 0x02, 0x8C, 0x01, 0x61, 0x4B, 0x03, 0x75, 0x2E])
        #expect(value == .dict([.init(key: .string("a"), value: .int(3)), .init(key: .string("b"), value: .int(2))]))
    }

    @Test("a list that contains itself is refused, not followed forever")
    func selfReference() {
        // EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP.
        let reason = Self.malformedReason([0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E])
        #expect(reason?.contains("more than \(ResourceLimit.pickleDepth.value) levels") == true)
    }

    @Test("nesting deeper than the limit is refused")
    func deepNesting() {
        let depth = ResourceLimit.pickleDepth.value + 5
        let bytes = [UInt8](repeating: 0x5D, count: depth) + [UInt8](repeating: 0x61, count: depth - 1) + [0x2E]
        #expect(Self.malformedReason(bytes)?.contains("levels deep") == true)
        let shallow = [UInt8](repeating: 0x5D, count: 50) + [UInt8](repeating: 0x61, count: 49) + [0x2E]
        #expect(throws: Never.self) { try Self.decode(shallow) }
    }

    /// Hundreds of thousands of nested lists are refused at the depth limit, and the
    /// half-built tree is freed without one stack frame per level (which overflowed the stack).
    @Test("very deep nesting is refused without exhausting the stack", arguments: [false, true])
    func veryDeepNesting(memoized: Bool) {
        let depth = 300_000
        var bytes: [UInt8]
        if memoized {
            // Every list memoized first, then each appended into the one before it by memo
            // reference: the nesting is made after the containers, not while they are pushed.
            bytes = [0x80, 0x02]
            for level in 0..<depth { bytes += [0x5D, 0x72] + withUnsafeBytes(of: UInt32(level).littleEndian, Array.init) + [0x30] }
            for level in 0..<(depth - 1) {
                bytes += [0x6A] + withUnsafeBytes(of: UInt32(level).littleEndian, Array.init)
                bytes += [0x6A] + withUnsafeBytes(of: UInt32(level + 1).littleEndian, Array.init) + [0x61, 0x30]
            }
            bytes += [0x6A] + withUnsafeBytes(of: UInt32(0).littleEndian, Array.init) + [0x2E]
        } else {
            bytes = [UInt8](repeating: 0x5D, count: depth) + [UInt8](repeating: 0x61, count: depth - 1) + [0x2E]
        }
        #expect(Self.malformedReason(bytes)?.contains("levels deep") == true)
    }

    @Test("shared references that expand exponentially are refused")
    func expansionBomb() {
        // x₀ = []; xₖ₊₁ = (xₖ, xₖ) forty times: 2⁴⁰ values from about 330 bytes.
        var bytes: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x30]
        for level in 0..<40 {
            bytes += [0x68, UInt8(level), 0x68, UInt8(level), 0x86, 0x71, UInt8(level + 1), 0x30]
        }
        bytes += [0x68, 40, 0x2E]
        #expect(Self.malformedReason(bytes)?.contains("expands to more values") == true)
    }

    // MARK: Refused globals

    @Test(
        "refuses globals outside the allow-list, however they are named",
        arguments: [
            ("GLOBAL", [0x80, 0x02] + bytes("cos\nsystem\n") + [0x8C, 0x02] + bytes("ls") + [0x85, 0x52, 0x2E], "os.system"),
            ("STACK_GLOBAL", [0x80, 0x04, 0x8C, 0x02] + bytes("os") + [0x8C, 0x06] + bytes("system") + [0x93, 0x2E], "os.system"),
            ("INST", [0x28] + bytes("ios\nsystem\n") + [0x2E], "os.system"),
            ("builtins", bytes("cbuiltins\neval\n") + [0x2E], "builtins.eval"),
            ("torch.load", bytes("ctorch\nload\n") + [0x2E], "torch.load"),
            ("subclass", bytes("ctorch._tensor\n_rebuild_from_type_v2\n") + [0x2E], "torch._tensor._rebuild_from_type_v2"),
        ] as [(String, [UInt8], String)])
    func refusedGlobals(label: String, bytes: [UInt8], global: String) {
        let error = formatError { try Self.decode(bytes) }
        #expect(error == .refusedGlobal(file: "test.pkl", global: global), "\(label)")
        let allowed = "(only tensors, storages, ordered dicts and plain values are allowed)"
        #expect(error?.description == "test.pkl: refuses to load the global '\(global)' \(allowed)")
    }

    @Test("the allow-list")
    func allowList() {
        #expect(PyTorchPickle.allows(module: "collections", name: "OrderedDict"))
        #expect(PyTorchPickle.allows(module: "torch._utils", name: "_rebuild_tensor_v2"))
        #expect(PyTorchPickle.allows(module: "torch", name: "BFloat16Storage"))
        #expect(PyTorchPickle.allows(module: "torch", name: "float16"))
        #expect(PyTorchPickle.allows(module: "lightning.fabric.utilities.data", name: "AttributeDict"))
        #expect(!PyTorchPickle.allows(module: "torch", name: "ComplexFloatStorage"))
        #expect(!PyTorchPickle.allows(module: "posix", name: "system"))
        #expect(!PyTorchPickle.allows(module: "collections", name: "defaultdict"))
        #expect(!PyTorchPickle.allows(module: "evil", name: "AttributeDict"))
    }

    @Test("an allowed global is only used as documented")
    func allowedGlobalsMisused() {
        // torch.FloatStorage(5): storage types may be named but not called.
        let storageCall = Self.malformedReason(Self.bytes("ctorch\nFloatStorage\n") + [0x4B, 0x05, 0x85, 0x52, 0x2E])
        #expect(storageCall?.contains("calling 'torch.FloatStorage'") == true)
        // _codecs.encode with an encoding other than latin1.
        let encode = Self.malformedReason(
            Self.bytes("c_codecs\nencode\n") + [0x8C, 0x01, 0x61, 0x8C, 0x05] + Self.bytes("utf-8") + [0x86, 0x52, 0x2E])
        #expect(encode?.contains("latin1") == true)
        // BUILD on a list.
        #expect(Self.malformedReason([0x5D, 0x7D, 0x62, 0x2E])?.contains("BUILD") == true)
        // A persistent id that is not a storage.
        #expect(Self.malformedReason([0x8C, 0x01, 0x78, 0x51, 0x2E])?.contains("persistent id") == true)
        // A storage key that is a path.
        let persistentId: [UInt8] = [0x28, 0x8C, 0x07] + Self.bytes("storage") + Self.bytes("ctorch\nFloatStorage\n")
            + [0x8C, 0x05] + Self.bytes("../x0") + [0x8C, 0x03] + Self.bytes("cpu") + [0x4B, 0x02, 0x74, 0x51, 0x2E]
        #expect(Self.malformedReason(persistentId)?.contains("not a plain name") == true)
    }

    // MARK: Damaged pickles

    @Test(
        "stack, mark and memo misuse is an error, not a crash",
        arguments: [
            ([0x61, 0x2E], "pops from an empty stack"),  // APPEND
            ([0x30, 0x2E], "POP on an empty stack"),
            ([0x4B, 0x01, 0x74, 0x2E], "TUPLE without a MARK"),
            ([0x28, 0x52, 0x2E], "pops from an empty stack"),  // MARK then REDUCE: nothing above the mark
            ([0x86, 0x2E], "TUPLE2 needs 2 values"),
            ([0x68, 0x05, 0x2E], "memo entry 5, which was never stored"),
            ([0x6A, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E], "memo entry 2147483647"),
            ([0x71, 0x00, 0x2E], "BINPUT needs a value"),
            ([0x4E, 0x4E, 0x2E], "STOP with 2 values"),
            ([0x28, 0x4E, 0x2E], "1 marks"),
            ([0x4E, 0x61, 0x2E], "APPEND needs a value on the stack"),
            ([0x4E, 0x4E, 0x61, 0x2E], "APPEND on something other than a list"),
            ([0x7D, 0x4E, 0x73, 0x2E], "SETITEM needs a value on the stack"),
        ] as [([UInt8], String)])
    func misuse(bytes: [UInt8], expected: String) {
        let reason = Self.malformedReason(bytes)
        #expect(reason?.contains(expected) == true, "\(reason ?? "nil")")
    }

    @Test(
        "lengths and versions are checked before use",
        arguments: [
            ([0x58, 0xFF, 0xFF, 0xFF, 0xFF, 0x61], "declares 4294967295 bytes but only 1 remain"),  // BINUNICODE
            ([0x8D] + [UInt8](repeating: 0xFF, count: 8), "declares 18446744073709551615 bytes"),  // BINUNICODE8
            ([0x8B, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E], "negative length"),  // LONG4
            ([0x95, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x2E], "a frame of"),
            ([0x80, 0x06, 0x4E, 0x2E], "protocol 6"),
            ([0x58, 0x02, 0x00, 0x00, 0x00, 0xC3, 0x28, 0x2E], "not valid UTF-8"),
            ([0x4E], "ends without STOP"),
            ([0xFF, 0x2E], "unknown opcode 0xFF"),
            ([0x4E, 0x2E, 0x4E], "1 bytes follow STOP"),
            ([0x53, 0x27, 0x61, 0x27, 0x0A, 0x2E], "STRING, a protocol 0 text string"),
            ([0x82, 0x01, 0x2E], "extension registry"),
            ([0x97, 0x2E], "out-of-band"),
            ([0x63, 0x6F, 0x73, 0x2E], "no terminating newline"),
        ] as [([UInt8], String)])
    func lengths(bytes: [UInt8], expected: String) {
        let reason = Self.malformedReason(bytes)
        #expect(reason?.contains(expected) == true, "\(reason ?? "nil")")
    }

    @Test("an error gives the byte offset of the opcode")
    func offsets() {
        let error = formatError { try Self.decode([0x80, 0x02, 0x4E, 0x68, 0x09, 0x2E]) }
        #expect(error == .malformedPickle(file: "test.pkl", offset: 3, reason: "BINGET refers to memo entry 9, which was never stored"))
        #expect(error?.description == "test.pkl: malformed pickle at byte 3: BINGET refers to memo entry 9, which was never stored")
    }

    @Test("protocol 0 and 1 numbers")
    func textNumbers() throws {
        // MARK, INT 01 (True), INT -7, LONG 12L, FLOAT 2.5, BININT2 513, TUPLE, STOP.
        let bytes = [0x28] + Self.bytes("I01\nI-7\nL12L\nF2.5\n") + [0x4D, 0x01, 0x02, 0x74, 0x2E]
        #expect(try Self.decode(bytes) == .tuple([.bool(true), .int(-7), .int(12), .float(2.5), .int(513)]))
    }
}
