/// The globals a PyTorch pickle may name, and what calling each one means here.
///
/// Each is recognised by its module and name and reimplemented in a few lines; no name is
/// ever looked up in a running program. Anything else is refused.
enum PickleGlobal: Equatable {
    case orderedDict
    /// Lightning's hyper-parameter container, a `dict` subclass.
    case attributeDict
    case rebuildTensor
    case rebuildTensorV2
    case rebuildParameter
    case rebuildParameterWithState
    /// A storage class such as `torch.FloatStorage`, named in persistent ids.
    case storageType(ElementType)
    /// A dtype such as `torch.float16`, which pickles as a global.
    case dtype
    case size
    case set
    case frozenSet
    /// `_codecs.encode`, which protocol 2 uses to pickle `bytes`.
    case encode
    case bytes
    case byteArray

    static let storageTypes: [String: ElementType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16,
        "BFloat16Storage": .bfloat16, "LongStorage": .int64, "IntStorage": .int32,
        "ShortStorage": .int16, "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool,
        "UntypedStorage": .uint8,
    ]

    static let dtypes: Set<String> = [
        "float32", "float", "float64", "double", "float16", "half", "bfloat16", "int64", "long",
        "int32", "int", "int16", "short", "int8", "uint8", "bool",
    ]

    static let attributeDictModules: Set<String> = [
        "lightning.fabric.utilities.data", "lightning_fabric.utilities.data",
        "pytorch_lightning.utilities.parsing", "lightning.pytorch.utilities.parsing",
    ]

    /// The allowed global `module.name`, or `nil` if it is not allowed.
    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        case ("torch", "Size"): self = .size
        case ("torch.storage", "UntypedStorage"): self = .storageType(.uint8)
        case ("builtins", "set"), ("__builtin__", "set"): self = .set
        case ("builtins", "frozenset"), ("__builtin__", "frozenset"): self = .frozenSet
        case ("builtins", "bytes"), ("__builtin__", "bytes"): self = .bytes
        case ("builtins", "bytearray"), ("__builtin__", "bytearray"): self = .byteArray
        case ("_codecs", "encode"): self = .encode
        case ("torch", _):
            if let type = Self.storageTypes[name] {
                self = .storageType(type)
            } else if Self.dtypes.contains(name) {
                self = .dtype
            } else {
                return nil
            }
        case (_, "AttributeDict") where Self.attributeDictModules.contains(module): self = .attributeDict
        default: return nil
        }
    }

    /// What calling the global with `arguments` produces.
    func call(_ arguments: [PickleValue]) throws(PickleFailure) -> PickleMachine.Node {
        switch self {
        case .orderedDict, .attributeDict:
            let dict = PickleMachine.Node(.dict)
            guard let pairs = arguments.first else { return dict }
            guard arguments.count == 1, let items = pairs.sequenceItems else {
                throw PickleFailure("a dict is built from nothing or from one list of pairs")
            }
            for item in items {
                guard let pair = item.sequenceItems, pair.count == 2 else {
                    throw PickleFailure("a dict is built from a list of key–value pairs")
                }
                dict.setItem(pair[0], PickleMachine.Node(value: pair[1]))
            }
            return dict
        case .rebuildTensor:
            try expectCount(arguments, 4...4)
            return PickleMachine.Node(value: .tensor(try tensor(arguments, requiresGrad: false)))
        case .rebuildTensorV2:
            try expectCount(arguments, 6...7)
            guard case let .bool(requiresGrad) = arguments[4] else {
                throw PickleFailure("requires_grad is not a bool")
            }
            return PickleMachine.Node(value: .tensor(try tensor(arguments, requiresGrad: requiresGrad)))
        case .rebuildParameter, .rebuildParameterWithState:
            try expectCount(arguments, self == .rebuildParameter ? 3...3 : 4...4)
            guard case var .tensor(tensor) = arguments[0], case let .bool(requiresGrad) = arguments[1] else {
                throw PickleFailure("a parameter is rebuilt from a tensor and a bool")
            }
            tensor.requiresGrad = requiresGrad
            return PickleMachine.Node(value: .tensor(tensor))
        case .storageType, .dtype:
            throw PickleFailure("storage types and dtypes may be named but not called")
        case .size:
            try expectCount(arguments, 0...1)
            let dimensions = arguments.first?.sequenceItems ?? []
            guard arguments.isEmpty || arguments[0].sequenceItems != nil else {
                throw PickleFailure("torch.Size is built from a tuple")
            }
            return PickleMachine.Node(value: .tuple(dimensions))
        case .set, .frozenSet:
            try expectCount(arguments, 0...1)
            guard arguments.isEmpty || arguments[0].sequenceItems != nil else {
                throw PickleFailure("a set is built from a list")
            }
            let set = PickleMachine.Node(.set)
            for element in arguments.first?.sequenceItems ?? [] { set.addElement(element) }
            return set
        case .encode:
            guard arguments.count == 2, case let .string(text) = arguments[0],
                case let .string(encoding) = arguments[1], ["latin1", "latin-1"].contains(encoding)
            else {
                throw PickleFailure("it is allowed only as encode(text, 'latin1'), which pickles bytes")
            }
            return PickleMachine.Node(value: .bytes(try Self.latin1(text)))
        case .bytes, .byteArray:
            return PickleMachine.Node(value: .bytes(try bytes(arguments)))
        }
    }

    private func expectCount(_ arguments: [PickleValue], _ range: ClosedRange<Int>) throws(PickleFailure) {
        guard range.contains(arguments.count) else {
            let expected = range.count == 1 ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
            throw PickleFailure("it takes \(expected) arguments, not \(arguments.count)")
        }
    }

    /// `_rebuild_tensor(storage, storage_offset, size, stride, …)`.
    private func tensor(_ arguments: [PickleValue], requiresGrad: Bool) throws(PickleFailure) -> PickleValue.Tensor {
        guard case let .storage(storage) = arguments[0] else {
            throw PickleFailure("a tensor is rebuilt from something other than a storage")
        }
        guard case let .int(offset) = arguments[1], offset >= 0 else {
            throw PickleFailure("a tensor's storage offset is not a non-negative integer")
        }
        guard let shape = Self.dimensions(arguments[2]), let strides = Self.dimensions(arguments[3]) else {
            throw PickleFailure("a tensor's size or stride is not a tuple of non-negative integers")
        }
        guard shape.count == strides.count else {
            throw PickleFailure("a tensor has \(shape.count) sizes but \(strides.count) strides")
        }
        let rank = ResourceLimit.rank
        guard shape.count <= rank.value else {
            throw PickleFailure("a tensor has \(shape.count) dimensions, more than a tensor may have \(rank.exceeded(needing: shape.count))")
        }
        return PickleValue.Tensor(storage: storage, offset: offset, shape: shape, strides: strides, requiresGrad: requiresGrad)
    }

    private static func dimensions(_ value: PickleValue) -> [Int]? {
        guard let items = value.sequenceItems else { return nil }
        var result: [Int] = []
        for item in items {
            guard case let .int(size) = item, size >= 0 else { return nil }
            result.append(size)
        }
        return result
    }

    /// `bytes()`, `bytes(b)`, `bytes([ints])`, and `bytearray` the same or from `(text, 'latin-1')`.
    private func bytes(_ arguments: [PickleValue]) throws(PickleFailure) -> [UInt8] {
        switch arguments.count {
        case 0:
            return []
        case 1:
            if case let .bytes(bytes) = arguments[0] { return bytes }
            if let items = arguments[0].sequenceItems {
                var bytes: [UInt8] = []
                for item in items {
                    guard case let .int(byte) = item, let exact = UInt8(exactly: byte) else {
                        throw PickleFailure("bytes are built from integers 0–255")
                    }
                    bytes.append(exact)
                }
                return bytes
            }
        case 2:
            if self == .byteArray, case let .string(text) = arguments[0],
                case let .string(encoding) = arguments[1], ["latin1", "latin-1"].contains(encoding)
            {
                return try Self.latin1(text)
            }
        default:
            break
        }
        throw PickleFailure("it is allowed only with no argument, bytes or a list of integers")
    }

    private static func latin1(_ text: String) throws(PickleFailure) -> [UInt8] {
        var bytes: [UInt8] = []
        for scalar in text.unicodeScalars {
            guard let byte = UInt8(exactly: scalar.value) else {
                throw PickleFailure("text to encode as latin-1 holds U+\(String(scalar.value, radix: 16, uppercase: true))")
            }
            bytes.append(byte)
        }
        return bytes
    }

    /// The storage a BINPERSID id `('storage', storage_type, key, location, numel)` names.
    static func persistentStorage(_ id: PickleValue) throws(PickleFailure) -> PickleValue.Storage {
        guard case let .tuple(fields) = id, fields.count == 5, fields[0] == .string("storage") else {
            throw PickleFailure("a persistent id is not ('storage', type, key, location, size)")
        }
        guard case let .global(module, name) = fields[1], case let .storageType(elementType)? = PickleGlobal(module: module, name: name)
        else {
            throw PickleFailure("a persistent id names no storage type")
        }
        guard case let .string(key) = fields[2], !key.isEmpty, !key.contains("/"), key != "..", key != "." else {
            throw PickleFailure("a storage key is not a plain name")
        }
        guard case let .string(location) = fields[3] else {
            throw PickleFailure("storage '\(key)': its location is not a string")
        }
        guard case let .int(count) = fields[4], count >= 0,
            !count.multipliedReportingOverflow(by: elementType.byteCount).overflow
        else {
            throw PickleFailure("storage '\(key)': its size is not a plausible element count")
        }
        return PickleValue.Storage(key: key, elementType: elementType, location: location, count: count)
    }
}

/// Why a pickle was refused, before the opcode position is attached.
struct PickleFailure: Error {
    let reason: String

    init(_ reason: String) {
        self.reason = reason
    }
}

extension PickleValue {
    /// The items of a tuple or list.
    var sequenceItems: [PickleValue]? {
        switch self {
        case let .tuple(items), let .list(items): return items
        default: return nil
        }
    }
}
