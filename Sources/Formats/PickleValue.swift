/// A value decoded from a Python pickle by ``PyTorchPickle``, as plain data.
///
/// Only what the restricted reader accepts can appear: Python's plain values and
/// containers, descriptions of PyTorch tensors and storages, and references to the few
/// allowed globals (such as the dtype `torch.float16`) that were not called. Nothing here
/// refers to live Python objects; tensors describe where their elements are, and
/// ``PyTorchCheckpoint`` reads them from the archive.
///
/// Dicts keep their insertion order, as Python's do. `OrderedDict` and Lightning's
/// `AttributeDict` become plain dicts, `torch.Size` a tuple, `set` and `frozenset` a set,
/// `bytearray` bytes.
public indirect enum PickleValue: Hashable, Sendable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer too large for `Int`: little-endian two's complement bytes, as pickle's
    /// `LONG1`/`LONG4` store them.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([PickleValue])
    case tuple([PickleValue])
    /// A dict's entries in insertion order; keys are unique.
    case dict([Entry])
    /// A set's elements in insertion order, without duplicates.
    case set([PickleValue])
    /// An allowed global that was referenced but not called, such as `torch.float16`.
    case global(module: String, name: String)
    case storage(Storage)
    case tensor(Tensor)

    /// One key–value pair of a dict.
    public struct Entry: Hashable, Sendable {
        public var key: PickleValue
        public var value: PickleValue

        public init(key: PickleValue, value: PickleValue) {
            self.key = key
            self.value = value
        }
    }

    /// A PyTorch storage: a flat run of elements of one type, kept in the archive member
    /// `data/<key>`.
    public struct Storage: Hashable, Sendable {
        /// The name of the storage's member in the archive's `data` folder.
        public var key: String
        /// The element type (`torch.FloatStorage` is `float32`; an untyped storage is `uint8`).
        public var elementType: ElementType
        /// The device the storage was saved from, such as `"cpu"` or `"cuda:0"`.
        public var location: String
        /// The number of elements the storage holds.
        public var count: Int

        public init(key: String, elementType: ElementType, location: String, count: Int) {
            self.key = key
            self.elementType = elementType
            self.location = location
            self.count = count
        }
    }

    /// A PyTorch tensor: a strided view of a storage.
    ///
    /// Element `(i₀, …, iₙ₋₁)` is storage element `offset + Σ iₖ·strides[k]`. Shapes, strides
    /// and the offset are non-negative when decoded; whether the view fits its storage is
    /// checked when the elements are read.
    public struct Tensor: Hashable, Sendable {
        public var storage: Storage
        /// The index of the first element in the storage, in elements.
        public var offset: Int
        /// The dimensions, outermost first; `[]` for a scalar.
        public var shape: [Int]
        /// The step in storage elements between neighbours along each dimension.
        public var strides: [Int]
        /// Whether it was saved as a parameter that requires gradients.
        public var requiresGrad: Bool

        public init(storage: Storage, offset: Int, shape: [Int], strides: [Int], requiresGrad: Bool = false) {
            self.storage = storage
            self.offset = offset
            self.shape = shape
            self.strides = strides
            self.requiresGrad = requiresGrad
        }

        /// Whether the view is the row-major layout of its elements, so they are contiguous
        /// in the storage from `offset` on.
        public var isContiguous: Bool {
            if shape.contains(0) { return true }
            var expected = 1
            for axis in shape.indices.reversed() where shape[axis] != 1 {
                if strides[axis] != expected { return false }
                expected = expected.multipliedReportingOverflow(by: shape[axis]).partialValue
            }
            return true
        }
    }

    /// The value for `key` in a dict, or `nil` if this is not a dict or lacks the key.
    public subscript(key: String) -> PickleValue? {
        guard case let .dict(entries) = self else { return nil }
        return entries.first { $0.key == .string(key) }?.value
    }

    /// The entries of a dict, or `nil` for any other value.
    public var dictEntries: [Entry]? {
        if case let .dict(entries) = self { return entries }
        return nil
    }

    /// The text of a string, or `nil` for any other value.
    public var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }
}
