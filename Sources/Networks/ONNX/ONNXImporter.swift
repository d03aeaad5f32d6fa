import Formats
import Foundation
import ONNXProto

/// Reads ONNX models (`ModelProto` protobuf files) into a ``Graph``.
///
/// Tensors may be stored in `raw_data` (little-endian) or in the typed repeated fields;
/// both are read, with every length checked against the declared shape. Node names left by
/// PyTorch's exporters become module paths: the TorchScript exporter names nodes after
/// their scope (`/layer1/layer1.0/conv1/Conv`), the dynamo exporter records the scope in the
/// node's `pkg.torch.onnx.name_scopes` metadata.
public enum ONNXImporter {
    /// Reads and decodes the model at `url`.
    ///
    /// - Throws: ``NetworkError/invalidModel(file:problem:)`` if the file cannot be read, is
    ///   not an ONNX protobuf, or holds a tensor that does not fit its shape.
    ///
    /// The file's bytes are let go of once parsed, and each initializer's serialized bytes
    /// once it is a tensor, so that a model is held about twice at most (not three times).
    public static func load(_ url: URL) throws -> Graph {
        let model: Onnx_ModelProto
        do {
            model = try parse(try Data(contentsOf: url), file: url.path)
        } catch let error as NetworkError {
            throw error
        } catch {
            throw NetworkError.invalidModel(file: url.path, problem: "cannot be read: \(FormatError.reason(reading: url, after: error))")
        }
        return try graph(of: model, file: url.path)
    }

    /// Decodes a serialized `ModelProto`; `file` names it in messages.
    public static func decode(_ data: Data, file: String) throws -> Graph {
        try graph(of: parse(data, file: file), file: file)
    }

    private static func parse(_ data: Data, file: String) throws -> Onnx_ModelProto {
        do {
            return try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw NetworkError.invalidModel(file: file, problem: "is not a readable ONNX model (truncated or corrupt protobuf: \(error))")
        }
    }

    private static func graph(of model: consuming Onnx_ModelProto, file: String) throws -> Graph {
        guard model.hasGraph else {
            throw NetworkError.invalidModel(file: file, problem: "is not an ONNX model (no graph)")
        }
        var opsets: [String: Int] = [:]
        for entry in model.opsetImport { opsets[entry.domain] = Int(clamping: entry.version) }
        if opsets.isEmpty { opsets[""] = 1 }
        var proto = model.graph
        model.clearGraph()
        return try graph(&proto, opsets: opsets, file: file)
    }

    /// The graph of `proto`, whose initializers are taken out of it as they are converted.
    static func graph(_ proto: inout Onnx_GraphProto, opsets: [String: Int], file: String) throws -> Graph {
        var initializers: [String: Tensor] = [:]
        var order: [String] = []
        var stored = proto.initializer
        proto.initializer = []
        for i in stored.indices {
            let name = stored[i].name
            let tensor = try tensor(stored[i], file: file)
            stored[i] = Onnx_TensorProto()
            if initializers.updateValue(tensor, forKey: name) == nil { order.append(name) }
        }
        for sparse in proto.sparseInitializer where sparse.hasValues {
            throw NetworkError.invalidModel(file: file, problem: "sparse initializer '\(sparse.values.name)' is not supported")
        }
        let inputs = try proto.input.filter { initializers[$0.name] == nil }.map { info -> Graph.Input in
            try input(info, file: file)
        }
        var nodes: [Node] = []
        nodes.reserveCapacity(proto.node.count)
        for nodeProto in proto.node {
            var attributes: [String: Attribute] = [:]
            for attribute in nodeProto.attribute {
                attributes[attribute.name] = try value(of: attribute, node: nodeProto, file: file)
            }
            let scopes = moduleScopes(of: nodeProto)
            nodes.append(Node(
                name: nodeProto.name, opType: nodeProto.opType, domain: nodeProto.domain,
                inputs: nodeProto.input, outputs: nodeProto.output, attributes: attributes,
                modulePath: scopes.last, moduleScopes: scopes))
        }
        return Graph(inputs: inputs, outputs: proto.output.map(\.name), initializers: initializers,
                     initializerOrder: order, nodes: nodes, opsets: opsets)
    }

    static func input(_ info: Onnx_ValueInfoProto, file: String) throws -> Graph.Input {
        guard case let .tensorType(type)? = info.type.value else {
            return Graph.Input(name: info.name, dataType: nil, shape: nil)
        }
        let dataType = try? self.dataType(type.elemType, what: "input '\(info.name)'", file: file)
        let shape: [Int?]? = type.hasShape
            ? type.shape.dim.map { dim in
                if case let .dimValue(v)? = dim.value, v > 0 { return Int(v) }
                return nil
            }
            : nil
        return Graph.Input(name: info.name, dataType: dataType, shape: shape)
    }

    /// Decodes a serialized `TensorProto` (the `.pb` files of ONNX's backend tests).
    public static func decodeTensor(_ data: Data, file: String) throws -> (name: String, tensor: Tensor) {
        let proto: Onnx_TensorProto
        do {
            proto = try Onnx_TensorProto(serializedBytes: data)
        } catch {
            throw NetworkError.invalidModel(file: file, problem: "is not a readable ONNX tensor (\(error))")
        }
        return (proto.name, try tensor(proto, file: file))
    }

    // MARK: - Tensors

    static func dataType(_ code: Int32, what: String, file: String) throws -> DataType {
        switch Onnx_TensorProto.DataType(rawValue: Int(code)) {
        case .float?: return .float32
        case .double?: return .float64
        case .int64?: return .int64
        case .int32?: return .int32
        case .int8?: return .int8
        case .uint8?: return .uint8
        case .bool?: return .bool
        case let other?:
            throw NetworkError.invalidModel(file: file, problem: "\(what) has element type \(other), which is not supported (supported: float32, float64, int64, int32, int8, uint8, bool)")
        case nil:
            throw NetworkError.invalidModel(file: file, problem: "\(what) has unknown element type code \(code)")
        }
    }

    /// Decodes a `TensorProto`, checking that its data fits its shape.
    static func tensor(_ proto: Onnx_TensorProto, file: String) throws -> Tensor {
        let what = proto.name.isEmpty ? "a tensor" : "tensor '\(proto.name)'"
        if proto.dataLocation == .external {
            throw NetworkError.invalidModel(file: file, problem: "\(what) keeps its data in an external file, which is not supported")
        }
        var count = 1
        for dim in proto.dims {
            guard dim >= 0, dim <= Int64(Int32.max) else {
                throw NetworkError.invalidModel(file: file, problem: "\(what) has an invalid dimension \(dim)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim))
            guard !overflow, product <= Tensor.maximumCount else {
                throw NetworkError.invalidModel(file: file, problem: "\(what) is too large (shape \(proto.dims))")
            }
            count = product
        }
        let shape = proto.dims.map { Int($0) }
        let type = try dataType(proto.dataType, what: what, file: file)
        func fail(_ found: Int) -> NetworkError {
            .invalidModel(file: file, problem: "\(what) holds \(found) values, its shape \(shape) needs \(count)")
        }
        if proto.hasRawData {
            let raw = proto.rawData
            let width: Int
            switch type {
            case .float32, .int32: width = 4
            case .float64, .int64: width = 8
            case .int8, .uint8, .bool: width = 1
            }
            guard raw.count == count * width else { throw fail(raw.count / width) }
            let storage: TensorStorage = raw.withUnsafeBytes { bytes in
                switch type {
                case .float32: return .float32(elements(bytes, count) { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) })
                case .float64: return .float64(elements(bytes, count) { Double(bitPattern: UInt64(littleEndian: $0.bitPattern)) })
                case .int32: return .int32(elements(bytes, count) { Int32(littleEndian: $0) })
                case .int64: return .int64(elements(bytes, count) { Int64(littleEndian: $0) })
                case .int8: return .int8((0..<count).map { Int8(bitPattern: bytes[$0]) })
                case .uint8: return .uint8((0..<count).map { bytes[$0] })
                case .bool: return .bool((0..<count).map { bytes[$0] != 0 })
                }
            }
            return Tensor(shape: shape, storage: storage)
        }
        let storage: TensorStorage
        switch type {
        case .float32:
            guard proto.floatData.count == count else { throw fail(proto.floatData.count) }
            storage = .float32(proto.floatData)
        case .float64:
            guard proto.doubleData.count == count else { throw fail(proto.doubleData.count) }
            storage = .float64(proto.doubleData)
        case .int64:
            guard proto.int64Data.count == count else { throw fail(proto.int64Data.count) }
            storage = .int64(proto.int64Data)
        case .int32, .int8, .uint8, .bool:
            let values = proto.int32Data
            guard values.count == count else { throw fail(values.count) }
            switch type {
            case .int32: storage = .int32(values)
            case .int8: storage = .int8(values.map { Int8(truncatingIfNeeded: $0) })
            case .uint8: storage = .uint8(values.map { UInt8(truncatingIfNeeded: $0) })
            default: storage = .bool(values.map { $0 != 0 })
            }
        }
        return Tensor(shape: shape, storage: storage)
    }

    /// `count` elements of `T` stored little-endian in `bytes` (which holds exactly that
    /// many): copied whole, then put in this machine's order by `fromLittleEndian` on a
    /// big-endian one.
    private static func elements<T>(_ bytes: UnsafeRawBufferPointer, _ count: Int, _ fromLittleEndian: (T) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes)
            if 1.littleEndian != 1 { for i in 0..<count { buffer[i] = fromLittleEndian(buffer[i]) } }
            initialized = count
        }
    }

    // MARK: - Attributes

    static func value(of attribute: Onnx_AttributeProto, node: Onnx_NodeProto, file: String) throws -> Attribute {
        func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }
        var type = attribute.type
        if type == .undefined {
            // Files older than IR version 4 may leave the type out; infer it from the field set.
            if attribute.hasF { type = .float } else if attribute.hasI { type = .int } else if attribute.hasS { type = .string }
            else if attribute.hasT { type = .tensor } else if !attribute.floats.isEmpty { type = .floats }
            else if !attribute.ints.isEmpty { type = .ints } else if !attribute.strings.isEmpty { type = .strings }
        }
        switch type {
        case .float: return .float(attribute.f)
        case .int: return .int(Int(clamping: attribute.i))
        case .string: return .string(text(attribute.s))
        case .tensor:
            do {
                return .tensor(try tensor(attribute.t, file: file))
            } catch let NetworkError.invalidModel(_, problem) {
                return .unsupported("tensor attribute: \(problem)")
            }
        case .floats: return .floats(attribute.floats)
        case .ints: return .ints(attribute.ints.map { Int(clamping: $0) })
        case .strings: return .strings(attribute.strings.map(text))
        case .graph, .graphs: return .graph
        default: return .unsupported("attribute type \(type)")
        }
    }

    // MARK: - Module paths

    /// The PyTorch modules a node runs inside, outermost first, from the dynamo exporter's
    /// `pkg.torch.onnx.name_scopes` metadata or the TorchScript exporter's scoped node name.
    static func moduleScopes(of node: Onnx_NodeProto) -> [String] {
        if let scopes = node.metadataProps.first(where: { $0.key == "pkg.torch.onnx.name_scopes" })?.value {
            // ['', 'layer1', 'layer1.0', 'layer1.0.relu1', 'relu_1']: the root module, the called
            // modules, and last the operation itself.
            let list = pythonStringList(scopes)
            return list.dropLast().filter { !$0.isEmpty && !$0.hasPrefix("_") }
        }
        return moduleScopes(fromScopedName: node.name)
    }

    /// The innermost module path of a TorchScript-exported node name.
    static func modulePath(fromScopedName name: String) -> String? { moduleScopes(fromScopedName: name).last }

    /// `/layer1/layer1.0/conv1/Conv` → `["layer1", "layer1.0", "layer1.0.conv1"]`. There is
    /// one scope segment per module call: the module's name, with the numeric parts of its
    /// path (`layer1.0`, `downsample.0`). A segment that continues the previous segment
    /// (`layer1.0` after `layer1`) adds only its remainder; any other is appended. The last
    /// component names the operator, not a module.
    static func moduleScopes(fromScopedName name: String) -> [String] {
        guard name.hasPrefix("/") else { return [] }
        let components = name.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard components.count >= 2 else { return [] }
        var scopes: [String] = []
        var path = ""
        var previous = ""
        for component in components.dropLast() {
            if !previous.isEmpty, component.hasPrefix(previous + ".") {
                path += component.dropFirst(previous.count)
            } else {
                path += path.isEmpty ? component : "." + component
            }
            previous = component
            scopes.append(path)
        }
        return scopes
    }

    /// Parses a Python list-of-strings literal such as `['', 'layer1', 'layer1.0']`.
    static func pythonStringList(_ literal: String) -> [String] {
        let body = literal.trimmingCharacters(in: .whitespaces)
        guard body.hasPrefix("["), body.hasSuffix("]") else { return [] }
        var items: [String] = []
        var current = ""
        var quote: Character?
        for character in body.dropFirst().dropLast() {
            if let q = quote {
                if character == q { items.append(current); current = ""; quote = nil } else { current.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
            }
        }
        return items
    }
}
