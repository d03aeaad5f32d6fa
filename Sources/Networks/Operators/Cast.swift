import ONNXProto

/// `Cast` and `CastLike` between every pair of supported element types.
///
/// Floats convert to integers by truncating toward zero (NaN gives 0, values out of range
/// saturate); integers narrow by wrapping, as in C; anything non-zero is `true`, and `true`
/// is 1. Casting to a type the runtime does not hold (strings, float16, bfloat16, the
/// float8 and 4-bit types, the 16- and unsigned 32/64-bit integers) is refused when the
/// network is loaded.
enum CastOperators {
    static let factories: [String: OperatorFactory] = [
        "Cast": { context in
            guard let code = try context.int("to") else { throw context.invalid("attribute 'to' is missing") }
            let target = try elementType(code, context)
            return ClosureOperator { inputs in
                let x = try inputs.required(0)
                return [Tensor(shape: x.shape, storage: cast(x.storage, to: target))]
            }
        },
        "CastLike": { _ in
            ClosureOperator { inputs in
                let x = try inputs.required(0)
                let target = try inputs.required(1).dataType
                return [Tensor(shape: x.shape, storage: cast(x.storage, to: target))]
            }
        },
    ]

    /// The element type with ONNX code `code`, or an unsupported-operator error naming it.
    static func elementType(_ code: Int, _ context: NodeContext) throws -> DataType {
        if let code32 = Int32(exactly: code),
           let type = try? ONNXImporter.dataType(code32, what: "", file: context.file) {
            return type
        }
        let name = Onnx_TensorProto.DataType(rawValue: code).map { "\($0)" } ?? "element type code \(code)"
        let supported = DataType.allCases.map(\.description).joined(separator: ", ")
        throw context.unsupported("casting to \(name) is not supported (supported: \(supported))")
    }

    /// `storage` converted to `type`; the same storage if it already has that type.
    static func cast(_ storage: TensorStorage, to type: DataType) -> TensorStorage {
        guard storage.dataType != type else { return storage }
        switch storage {
        case let .float32(a): return convert(a, to: type)
        case let .float64(a): return convert(a, to: type)
        case let .int64(a): return convert(a, to: type)
        case let .int32(a): return convert(a, to: type)
        case let .int8(a): return convert(a, to: type)
        case let .uint8(a): return convert(a, to: type)
        case let .bool(a): return convert(a, to: type)
        }
    }

    private static func convert<S: CastableElement>(_ a: [S], to type: DataType) -> TensorStorage {
        switch type {
        case .float32: return .float32(ElementLoops.map(a) { $0.cast(to: Float.self) })
        case .float64: return .float64(ElementLoops.map(a) { $0.cast(to: Double.self) })
        case .int64: return .int64(ElementLoops.map(a) { $0.cast(to: Int64.self) })
        case .int32: return .int32(ElementLoops.map(a) { $0.cast(to: Int32.self) })
        case .int8: return .int8(ElementLoops.map(a) { $0.cast(to: Int8.self) })
        case .uint8: return .uint8(ElementLoops.map(a) { $0.cast(to: UInt8.self) })
        case .bool: return .bool(ElementLoops.map(a) { $0.cast(to: Bool.self) })
        }
    }
}
