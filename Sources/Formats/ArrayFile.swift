import Foundation

/// Reading and writing named arrays in whichever format a file holds.
///
/// The format is recognised from the content (``FileFormat/detect(_:)``), never from the
/// extension. A `.npy` file holds one array, named after the file without its extension;
/// `.npz` and `.safetensors` files hold named arrays in file order, and a PyTorch
/// checkpoint the tensors of its state dict (see ``PyTorchCheckpoint``).
public enum ArrayFile {
    /// The formats ``write(_:to:format:metadata:)`` can produce.
    public enum WriteFormat: Sendable {
        /// `.npz` with stored members (`np.savez`).
        case npz
        /// `.npz` with deflated members (`np.savez_compressed`).
        case npzCompressed
        /// `.safetensors`.
        case safetensors
    }

    /// Every array in the file at `url`, in file order. A set of shards (``ArrayShards``)
    /// reads as one file, named by its index or by the name its shards share.
    ///
    /// - Parameter names: if given, only arrays with these names are decoded.
    /// - Throws: ``FormatError``; ``FormatError/notNPZ(file:member:)`` for a zip that is
    ///   neither an `.npz` nor a PyTorch checkpoint, ``FormatError/unsupportedFormat(file:format:)``
    ///   for an ONNX model, ``FormatError/unknownFormat(file:)`` otherwise.
    public static func read(_ url: URL, names: Set<String>? = nil) throws -> [(name: String, array: NumericArray)] {
        if let index = ArrayShards.index(for: url) { return try ArrayShards(index: index).read(names: names) }
        switch try FileFormat.detect(url) {
        case .npy:
            let name = baseName(url)
            if let names, !names.contains(name) { return [] }
            return [(name, try NPY.read(url))]
        case .npz:
            return try NPZ.read(url, names: names)
        case .safetensors:
            return try Safetensors.read(url, names: names).tensors
        case .pytorch, .legacyPyTorch:
            return try PyTorchCheckpoint.read(url, names: names)
        case let format:
            throw unreadableFormat(format, url)
        }
    }

    /// Hands `body` each array of ``read(_:names:)``, in file order; an `.npz` file's members
    /// are extracted one at a time, so that what `body` does not keep is freed before the
    /// next (other formats are read first).
    public static func forEachArray(_ url: URL, names: Set<String>? = nil, _ body: (String, NumericArray) throws -> Void) throws {
        if ArrayShards.index(for: url) == nil, try FileFormat.detect(url) == .npz { return try NPZ.forEachArray(url, names: names, body) }
        for (name, array) in try read(url, names: names) { try body(name, array) }
    }

    /// The names of the arrays in the file at `url`, in file order, without decoding them.
    public static func names(_ url: URL) throws -> [String] {
        if let index = ArrayShards.index(for: url) { return try ArrayShards(index: index).names }
        switch try FileFormat.detect(url) {
        case .npy: return [baseName(url)]
        case .npz: return try NPZ.names(url)
        case .safetensors: return try Safetensors.names(url)
        case .pytorch, .legacyPyTorch: return try PyTorchCheckpoint(contentsOf: url).names
        case let format: throw unreadableFormat(format, url)
        }
    }

    /// Writes `arrays` to `url` atomically in `format`.
    ///
    /// - Parameter metadata: string pairs kept in a safetensors header; `.npz` has no place for them.
    public static func write(
        _ arrays: [(name: String, array: NumericArray)], to url: URL, format: WriteFormat,
        metadata: [String: String] = [:]
    ) throws {
        switch format {
        case .npz: try NPZ.write(arrays, to: url, compression: .stored)
        case .npzCompressed: try NPZ.write(arrays, to: url, compression: .deflated)
        case .safetensors: try Safetensors.write(arrays, metadata: metadata, to: url)
        }
    }

    static func baseName(_ url: URL) -> String {
        url.deletingPathExtension().lastPathComponent
    }

    static func unreadableFormat(_ format: FileFormat, _ url: URL) -> FormatError {
        switch format {
        case .zip:
            let first = (try? NPZ.openArchive(url))?.first { $0.type == .file && !$0.path.hasSuffix(".npy") }
            return .notNPZ(file: url.path, member: first?.path ?? "?")
        case .unknown:
            return .unknownFormat(file: url.path)
        default:
            return .unsupportedFormat(file: url.path, format: format)
        }
    }
}
