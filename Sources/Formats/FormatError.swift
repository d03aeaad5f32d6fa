import Foundation

/// A problem reading or writing an array file.
///
/// Every case carries the path of the file concerned, so a message can always be traced
/// back to the file that caused it. Sizes are in bytes unless a case says otherwise.
public enum FormatError: Error, Equatable, Sendable {
    /// The file could not be opened or read.
    case unreadable(file: String, reason: String)
    /// The file (or its temporary sibling) could not be written or moved into place.
    case unwritable(file: String, reason: String)
    /// The file ends before the bytes its header announces.
    case truncated(file: String, expected: Int, actual: Int)
    /// The file does not start with the magic string of the format it was read as.
    case badMagic(file: String)
    /// The format version is one this reader does not know.
    case unsupportedVersion(file: String, version: String)
    /// A header length field claims more bytes than the file holds, or an absurd size.
    case headerSizeMismatch(file: String, declared: Int, available: Int)
    /// The header text could not be parsed or lacks a required entry.
    case malformedHeader(file: String, reason: String)
    /// The product of the dimensions (or the byte count) overflows a 64-bit integer.
    case shapeOverflow(file: String, shape: [Int])
    /// The data region is longer than the header's shape and element type account for.
    case trailingData(file: String, expected: Int, actual: Int)
    /// The element type (NumPy `descr` or safetensors `dtype`) is not supported.
    case unsupportedElementType(file: String, type: String)
    /// A safetensors tensor's data offsets fall outside the data buffer.
    case offsetOutOfRange(file: String, tensor: String, begin: Int, end: Int, bufferSize: Int)
    /// A safetensors tensor's byte range does not match its shape and element type.
    case tensorSizeMismatch(file: String, tensor: String, expected: Int, actual: Int)
    /// A value does not fit the element type it is being written as (for example 300 as `uint8`).
    case valueOutOfRange(file: String, name: String, value: String, elementType: ElementType)
    /// An array name cannot be written (empty, duplicated or reserved).
    case invalidName(file: String, name: String, reason: String)
    /// The zip archive itself could not be read or written.
    case archive(file: String, reason: String)
    /// A zip archive holds a member that is not a `.npy` file, so it is not an `.npz`.
    case notNPZ(file: String, member: String)
    /// A problem inside one member of a zip archive; `error` describes it (its own `file`
    /// is the member name).
    indirect case member(file: String, member: String, error: FormatError)
    /// The content matches a known format that cannot be read as arrays (for example an ONNX model).
    case unsupportedFormat(file: String, format: FileFormat)
    /// The content matches no known format.
    case unknownFormat(file: String)
    /// A pickle names a global (a function or class) outside the reader's allow-list.
    /// Nothing was imported or called; `global` is the dotted name, such as `os.system`.
    case refusedGlobal(file: String, global: String)
    /// A pickle is damaged, or uses a feature the reader does not support; `offset` is the
    /// byte position of the opcode concerned.
    case malformedPickle(file: String, offset: Int, reason: String)
    /// A PyTorch tensor's description cannot be turned into an array.
    case malformedTensor(file: String, tensor: String, reason: String)
    /// A file whose content is not what it should be: an image that is not a PNG or JPEG, is
    /// damaged or claims too many pixels; text that is not UTF-8; JSON that does not parse.
    case invalidContent(file: String, reason: String)
    /// A PyTorch tensor view reaches past the end of its storage; sizes count elements.
    case storageTooShort(file: String, tensor: String, storage: String, needed: Int, available: Int)

    /// The path of the file the error is about.
    public var file: String {
        switch self {
        case let .unreadable(file, _), let .unwritable(file, _), let .truncated(file, _, _), let .invalidContent(file, _),
            let .badMagic(file), let .unsupportedVersion(file, _), let .headerSizeMismatch(file, _, _),
            let .malformedHeader(file, _), let .shapeOverflow(file, _), let .trailingData(file, _, _),
            let .unsupportedElementType(file, _), let .offsetOutOfRange(file, _, _, _, _),
            let .tensorSizeMismatch(file, _, _, _), let .valueOutOfRange(file, _, _, _),
            let .invalidName(file, _, _), let .archive(file, _), let .notNPZ(file, _),
            let .member(file, _, _), let .unsupportedFormat(file, _), let .unknownFormat(file),
            let .refusedGlobal(file, _), let .malformedPickle(file, _, _), let .malformedTensor(file, _, _),
            let .storageTooShort(file, _, _, _, _):
            return file
        }
    }

    /// The problem alone, without the file path.
    public var problem: String {
        switch self {
        case let .invalidContent(_, reason):
            return reason
        case let .unreadable(_, reason):
            return "cannot read the file: \(reason)"
        case let .unwritable(_, reason):
            return "cannot write the file: \(reason)"
        case let .truncated(_, expected, actual):
            return "truncated: expected \(expected) bytes, found \(actual)"
        case .badMagic:
            return "bad magic: the file does not start with the expected signature"
        case let .unsupportedVersion(_, version):
            return "unsupported format version \(version)"
        case let .headerSizeMismatch(_, declared, available):
            return "the header claims \(declared) bytes but only \(available) are available"
        case let .malformedHeader(_, reason):
            return "malformed header: \(reason)"
        case let .shapeOverflow(_, shape):
            return "shape \(shape) has more elements or bytes than a 64-bit size can count"
        case let .trailingData(_, expected, actual):
            return "the header describes \(expected) data bytes but \(actual) follow it"
        case let .unsupportedElementType(_, type):
            return "unsupported element type \(type)"
        case let .offsetOutOfRange(_, tensor, begin, end, bufferSize):
            return "tensor '\(tensor)': data offsets [\(begin), \(end)] lie outside the \(bufferSize)-byte data buffer"
        case let .tensorSizeMismatch(_, tensor, expected, actual):
            return "tensor '\(tensor)': its shape and dtype need \(expected) bytes but its offsets span \(actual)"
        case let .valueOutOfRange(_, name, value, elementType):
            return "array '\(name)': value \(value) does not fit in \(elementType)"
        case let .invalidName(_, name, reason):
            return "invalid array name '\(name)': \(reason)"
        case let .archive(_, reason):
            return "zip archive error: \(reason)"
        case let .notNPZ(_, member):
            return "zip archive is not an .npz: member '\(member)' is not a .npy file"
        case let .member(_, member, error):
            return "member '\(member)': \(error.problem)"
        case let .unsupportedFormat(_, format):
            return "\(format.summary) cannot be read as arrays"
        case .unknownFormat:
            return "unknown format: not .npy, .npz, .safetensors or PyTorch checkpoint content"
        case let .refusedGlobal(_, global):
            return "refuses to load the global '\(global)' (only tensors, storages, ordered dicts and plain values are allowed)"
        case let .malformedPickle(_, offset, reason):
            return "malformed pickle at byte \(offset): \(reason)"
        case let .malformedTensor(_, tensor, reason):
            return "tensor '\(tensor)': \(reason)"
        case let .storageTooShort(_, tensor, storage, needed, available):
            return "tensor '\(tensor)' needs \(needed) elements of storage '\(storage)', which holds \(available)"
        }
    }
}

extension FormatError: CustomStringConvertible, LocalizedError {
    public var description: String { "\(file): \(problem)" }
    public var errorDescription: String? { description }
}

extension FormatError {
    /// Why `url` cannot be read as a file, in plain words (no such file, a folder, no
    /// permission), or nil when it can.
    public static func problem(reading url: URL) -> String? {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) { return "no such file" }
        if isDirectory.boolValue { return "it is a folder, not a file" }
        if !FileManager.default.isReadableFile(atPath: url.path) { return "permission denied" }
        return nil
    }

    /// Why the file at `url` could not be read after `error`, in plain words: its
    /// ``problem(reading:)``, or else the system's reason (never a bare error domain and code).
    public static func reason(reading url: URL, after error: any Error) -> String {
        if let problem = problem(reading: url) { return problem }
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        return (error as NSError).localizedFailureReason ?? error.localizedDescription
    }

    /// ``unreadable(file:reason:)`` for the file at `url` after `error`, the reason in plain words.
    public static func unreadable(_ url: URL, after error: any Error) -> FormatError {
        .unreadable(file: url.path, reason: reason(reading: url, after: error))
    }
}

extension FormatError {
    /// Why the file at `url` could not be written after `error`, in plain words.
    public static func reason(writing url: URL, after error: any Error) -> String {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue { return "it is a folder" }
        let parent = url.deletingLastPathComponent()
        if !manager.fileExists(atPath: parent.path, isDirectory: &isDirectory) { return "its folder \(parent.path) does not exist" }
        if !isDirectory.boolValue { return "\(parent.path) is a file, not a folder" }
        if !manager.isWritableFile(atPath: parent.path) { return "permission denied in \(parent.path)" }
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        return (error as NSError).localizedFailureReason ?? error.localizedDescription
    }
}

extension POSIXError {
    /// The error `errno` holds now.
    static var current: POSIXError { POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
}
