import Foundation
import ZIPFoundation

/// The kind of a file, recognised from its first bytes; the extension is never consulted.
public enum FileFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// NumPy `.npy`: starts with `\x93NUMPY`.
    case npy
    /// NumPy `.npz`: a zip archive whose members are all `.npy` files.
    case npz
    /// safetensors: an 8-byte little-endian header length that fits the file, then `{`.
    case safetensors
    /// A PyTorch checkpoint from `torch.save` (Lightning's `.ckpt` too): a zip archive with
    /// a `FOLDER/data.pkl` member.
    case pytorch
    /// A PyTorch checkpoint in the format `torch.save` wrote before version 1.6: pickles
    /// one after another, starting with a magic number.
    case legacyPyTorch
    /// Any other zip archive.
    case zip
    /// An ONNX model (a protobuf `ModelProto`), recognised heuristically.
    case onnx
    /// None of the above.
    case unknown

    public var description: String { rawValue }

    /// A phrase naming the format, for messages.
    public var summary: String {
        switch self {
        case .npy: return "a NumPy .npy file"
        case .npz: return "a NumPy .npz archive"
        case .safetensors: return "a safetensors file"
        case .pytorch: return "a PyTorch checkpoint"
        case .legacyPyTorch: return "a PyTorch checkpoint in the legacy non-zip format"
        case .zip: return "a zip archive that is neither an .npz nor a PyTorch checkpoint"
        case .onnx: return "an ONNX model"
        case .unknown: return "a file of unknown format"
        }
    }

    /// The format of the file at `url`, from its content.
    ///
    /// - Throws: ``FormatError/unreadable(file:reason:)`` if the file cannot be read, and
    ///   ``FormatError/archive(file:reason:)`` if it starts like a zip archive but its
    ///   directory cannot be read.
    public static func detect(_ url: URL) throws -> FileFormat {
        let (prefix, size) = try readPrefix(url, count: 32)
        if prefix.starts(with: NPY.magic) { return .npy }
        if prefix.starts(with: [0x50, 0x4B, 0x03, 0x04]) || prefix.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            let archive = try NPZ.openArchive(url)
            let files = archive.filter { $0.type == .file }
            if files.allSatisfy({ $0.path.hasSuffix(".npy") && $0.path.count > 4 }) { return .npz }
            return PyTorchCheckpoint.pickleEntry(in: archive) != nil ? .pytorch : .zip
        }
        if prefix.first == 0x80, prefix.dropFirst(2).starts(with: legacyPyTorchMagic) { return .legacyPyTorch }
        if prefix.count >= 9 {
            let length = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            if length >= 2, length <= size - 8, prefix[8] == UInt8(ascii: "{") {
                return .safetensors
            }
        }
        if looksLikeONNX(prefix) { return .onnx }
        return .unknown
    }

    /// The pickled integer `0x1950a86a20f9469cfc6c` (a `LONG1` of 10 bytes) that opens a
    /// legacy PyTorch checkpoint, after the `PROTO` opcode.
    static let legacyPyTorchMagic: [UInt8] = [0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// A `ModelProto` normally opens with field 1 (`ir_version`, a small varint) followed by
    /// another top-level field tag.
    static func looksLikeONNX(_ prefix: [UInt8]) -> Bool {
        guard prefix.count >= 3, prefix[0] == 0x08, (1...20).contains(prefix[1]) else { return false }
        let followingTags: Set<UInt8> = [0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72]
        return followingTags.contains(prefix[2])
    }

    static func readPrefix(_ url: URL, count: Int) throws -> (bytes: [UInt8], fileSize: UInt64) {
        try SmallFile.requireFile(url)
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            let bytes = try handle.read(upToCount: count) ?? Data()
            let size = try handle.seekToEnd()
            return ([UInt8](bytes), size)
        } catch {
            throw FormatError.unreadable(url, after: error)
        }
    }
}
