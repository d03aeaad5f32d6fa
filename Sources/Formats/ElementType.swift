/// The type of the elements of an array as a file stores them.
///
/// `NumericArray` keeps the type the file held even when it widens the values in memory
/// (half-precision floats become `Float`, narrow integers become `Int32`), so that writing
/// the array back reproduces the file's type.
public enum ElementType: String, Sendable, CaseIterable, CustomStringConvertible {
    case bool, uint8, int8, int16, uint16, int32, uint32, int64
    case float16, bfloat16, float32, float64

    /// Bytes per element in a file.
    public var byteCount: Int {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .int16, .uint16, .float16, .bfloat16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .float64: return 8
        }
    }

    /// Whether the elements are floating-point numbers.
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64: return true
        default: return false
        }
    }

    /// The in-memory storage kind that holds this type without loss.
    public var storageKind: NumericArray.StorageKind {
        switch self {
        case .float16, .bfloat16, .float32: return .float32
        case .float64: return .float64
        case .bool, .uint8, .int8, .int16, .uint16, .int32: return .int32
        case .uint32, .int64: return .int64
        }
    }

    /// The range of integer values the type can hold, or `nil` for floating-point types.
    var integerRange: ClosedRange<Int64>? {
        switch self {
        case .bool: return 0...1
        case .uint8: return 0...255
        case .int8: return -128...127
        case .int16: return -32768...32767
        case .uint16: return 0...65535
        case .int32: return Int64(Int32.min)...Int64(Int32.max)
        case .uint32: return 0...Int64(UInt32.max)
        case .int64: return Int64.min...Int64.max
        case .float16, .bfloat16, .float32, .float64: return nil
        }
    }

    public var description: String { rawValue }

    // MARK: safetensors

    /// The safetensors `dtype` string (`"F32"`, `"BF16"`, …).
    public var safetensorsName: String {
        switch self {
        case .bool: return "BOOL"
        case .uint8: return "U8"
        case .int8: return "I8"
        case .int16: return "I16"
        case .uint16: return "U16"
        case .int32: return "I32"
        case .uint32: return "U32"
        case .int64: return "I64"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .float32: return "F32"
        case .float64: return "F64"
        }
    }

    /// The type with safetensors `dtype` string `name`, if supported.
    public init?(safetensorsName name: String) {
        guard let match = ElementType.allCases.first(where: { $0.safetensorsName == name }) else { return nil }
        self = match
    }

    // MARK: NumPy

    /// The little-endian NumPy `descr` (`"<f4"`, `"|u1"`, …); `nil` for `bfloat16`, which NumPy lacks.
    public var numpyDescr: String? {
        switch self {
        case .bool: return "|b1"
        case .uint8: return "|u1"
        case .int8: return "|i1"
        case .int16: return "<i2"
        case .uint16: return "<u2"
        case .int32: return "<i4"
        case .uint32: return "<u4"
        case .int64: return "<i8"
        case .float16: return "<f2"
        case .bfloat16: return nil
        case .float32: return "<f4"
        case .float64: return "<f8"
        }
    }

    /// Parses a NumPy `descr` such as `"<f4"` or `">i8"`.
    ///
    /// Returns the type and whether the file's bytes are big-endian, or `nil` when the
    /// description names a type this reader does not support. `=` (native order) is taken as
    /// little-endian, which is what every platform this package runs on uses.
    static func parseNumpyDescr(_ descr: String) -> (type: ElementType, bigEndian: Bool)? {
        guard let order = descr.first, "<>|=".contains(order) else { return nil }
        let code = descr.dropFirst()
        let type: ElementType
        switch code {
        case "b1": type = .bool
        case "u1": type = .uint8
        case "i1": type = .int8
        case "i2": type = .int16
        case "u2": type = .uint16
        case "i4": type = .int32
        case "u4": type = .uint32
        case "i8": type = .int64
        case "f2": type = .float16
        case "f4": type = .float32
        case "f8": type = .float64
        default: return nil
        }
        // `|` ("not applicable") only makes sense for single-byte types.
        if order == "|" && type.byteCount != 1 { return nil }
        return (type, order == ">")
    }
}
