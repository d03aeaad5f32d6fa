import Foundation

/// Python pickles as `torch.save` writes them, decoded into plain data without running
/// anything.
///
/// A pickle is a small program: besides building values it can import any function by
/// name (`GLOBAL`, `STACK_GLOBAL`, `INST`) and call it (`REDUCE`, `NEWOBJ`, `BUILD`), which is
/// how loading a pickle can run arbitrary code. This decoder runs the program against a
/// fixed allow-list instead, and every allowed global is reimplemented here as a data
/// constructor:
///
/// - `collections.OrderedDict` and Lightning's `AttributeDict` build a ``PickleValue/dict(_:)``;
/// - `torch._utils._rebuild_tensor`, `_rebuild_tensor_v2`, `_rebuild_parameter` and
///   `_rebuild_parameter_with_state` build a ``PickleValue/tensor(_:)``, a description of a
///   strided view of a storage;
/// - the storage classes `torch.FloatStorage`, `DoubleStorage`, `HalfStorage`,
///   `BFloat16Storage`, `LongStorage`, `IntStorage`, `ShortStorage`, `CharStorage`,
///   `ByteStorage`, `BoolStorage` and `torch.UntypedStorage`, and the dtypes such as
///   `torch.float16`, may be named (they become ``PickleValue/global(module:name:)``) but not
///   called;
/// - `torch.Size` builds a tuple, `set` and `frozenset` a set, and `bytes`, `bytearray`
///   and `_codecs.encode(text, 'latin1')` (how protocol 2 writes `bytes`) build bytes.
///
/// Any other global is refused when it is named, before anything could call it, with
/// ``FormatError/refusedGlobal(file:global:)``. Persistent ids (`BINPERSID`) must be
/// PyTorch's `('storage', storage_type, key, location, numel)` and become a
/// ``PickleValue/storage(_:)``.
///
/// All opcodes of protocols 0–5 are understood except the protocol 0 text strings
/// (`STRING`, `UNICODE`), extension codes (`EXT1/2/4`) and out-of-band buffers
/// (`NEXT_BUFFER`); `torch.save` writes protocol 2. The decoder is stricter than Python's
/// in a few places that only matter for damaged files: `STOP` must leave exactly one value,
/// and no bytes may follow it.
///
/// Every length is checked against the bytes left, memo references must exist, popping an
/// empty stack is an error, nesting is limited by ``ResourceLimit/pickleDepth``, and shared
/// references may not expand the result past a budget proportional to the pickle's size.
public enum PyTorchPickle {
    /// Decodes pickle bytes; `file` names the source in errors, and containers may nest
    /// `maximumDepth` levels deep.
    ///
    /// - Throws: ``FormatError/refusedGlobal(file:global:)`` for a global outside the
    ///   allow-list, ``FormatError/malformedPickle(file:offset:reason:)`` for anything else.
    public static func decode(_ data: Data, file: String = "<memory>",
                              maximumDepth: Int = ResourceLimit.pickleDepth.value) throws -> PickleValue {
        var machine = PickleMachine(data, file: file, maximumDepth: maximumDepth)
        return try machine.run()
    }

    /// Whether the decoder accepts the global `module.name` (for example `"collections"`,
    /// `"OrderedDict"`).
    public static func allows(module: String, name: String) -> Bool {
        PickleGlobal(module: module, name: name) != nil
    }

    /// How many values decoding may make from a pickle of `byteCount` bytes: far more than
    /// any pickle without shared references needs (each value costs at least one byte),
    /// and enough for the modest sharing of real checkpoints.
    static func valueBudget(byteCount: Int) -> Int {
        min(byteCount, Int.max / 32) * 16 + (1 << 16)
    }
}
