import Foundation
import ZIPFoundation

/// A checkpoint written by `torch.save`, including PyTorch Lightning's `.ckpt` files.
///
/// Since PyTorch 1.6 `torch.save` writes a zip archive with one top-level folder (its name
/// varies): `data.pkl`, the pickled object; `data/0`, `data/1`, …, one raw storage each;
/// `version`, and usually `byteorder`. Opening a checkpoint decodes `data.pkl` with
/// ``PyTorchPickle``, which refuses anything but tensors, storages, dicts and plain values,
/// and picks out the state dict; ``arrays(names:)`` then reads the storages the tensors
/// need. The older non-zip format (`_use_new_zipfile_serialization=False`) is refused.
///
/// Which part of the file is the state dict:
///
/// 1. if the top level is a dict with an entry `state_dict`, `model_state_dict` or `model`
///    (in that order) whose value is a dict, that entry — `state_dict` is where Lightning
///    keeps the model's weights, the other two are common in training scripts
///    (`{'model': …, 'optimizer': …, 'epoch': …}`);
/// 2. otherwise the whole file.
///
/// The chosen value is flattened: every tensor reachable through dicts, lists and tuples
/// is named by its keys joined with dots (list positions count from 0), so a plain state
/// dict keeps its keys exactly and `{'encoder': {...}, 'decoder': {...}}` gives
/// `encoder.…` and `decoder.…`. Non-tensor leaves are skipped, as are entries whose keys
/// are neither strings nor integers. A file holding a single tensor names it after the
/// file, like a `.npy`. Names are kept as written — Lightning's `model.` prefix included;
/// ``commonPrefix`` reports such a prefix without removing it.
///
/// Every tensor's view (offset, sizes, strides) is checked against the size of its storage
/// before any element is read; views sharing a storage read it once.
public struct PyTorchCheckpoint: Sendable {
    /// The file the checkpoint was read from.
    public let url: URL
    /// The archive's top-level folder, such as `archive`.
    public let folder: String
    /// The whole pickled object, tensors as descriptions.
    public let root: PickleValue
    /// The top-level entry used as the state dict (`"state_dict"` in a Lightning
    /// checkpoint), or `nil` when the whole file is.
    public let stateDictKey: String?
    /// The tensors of the state dict in file order, with their names as written.
    public let tensors: [(name: String, tensor: PickleValue.Tensor)]

    /// Reads and decodes the checkpoint's `data.pkl`; storages are read later, by ``arrays(names:)``.
    ///
    /// - Throws: ``FormatError``; a refused global is a
    ///   ``FormatError/refusedGlobal(file:global:)`` inside a
    ///   ``FormatError/member(file:member:error:)`` naming `data.pkl`.
    public init(contentsOf url: URL) throws {
        let format = try FileFormat.detect(url)
        switch format {
        case .pytorch:
            break
        case .legacyPyTorch:
            throw FormatError.unsupportedVersion(
                file: url.path,
                version: "legacy (written with _use_new_zipfile_serialization=False); load and save it again with a current torch.save")
        case .npz, .zip:
            throw FormatError.archive(
                file: url.path, reason: "no top-level folder holds a data.pkl, so this is not a PyTorch checkpoint")
        default:
            throw FormatError.badMagic(file: url.path)
        }
        let archive = try NPZ.openArchive(url)
        guard let pickle = Self.pickleEntry(in: archive) else {
            throw FormatError.archive(file: url.path, reason: "no top-level folder holds a data.pkl")
        }
        let data = try NPZ.extract(pickle, from: archive, file: url.path, fileSize: NPZ.sizeOfFile(url), limit: .pickle)
        do {
            root = try PyTorchPickle.decode(data, file: pickle.path)
        } catch let error as FormatError {
            throw FormatError.member(file: url.path, member: pickle.path, error: error)
        }
        self.url = url
        folder = String(pickle.path.dropLast("/data.pkl".count))
        let (key, stateDict) = Self.stateDict(in: root)
        stateDictKey = key
        tensors = try Self.flatten(stateDict, fileName: url.deletingPathExtension().lastPathComponent, file: url.path)
    }

    /// The tensors of the file at `url` as arrays, in file order.
    ///
    /// - Parameter names: if given, only tensors with these names are read.
    public static func read(_ url: URL, names: Set<String>? = nil) throws -> [(name: String, array: NumericArray)] {
        try PyTorchCheckpoint(contentsOf: url).arrays(names: names)
    }

    /// The tensor names, as written in the file.
    public var names: [String] { tensors.map(\.name) }

    /// The version of PyTorch Lightning that wrote the checkpoint, if it is a Lightning checkpoint.
    public var lightningVersion: String? { root["pytorch-lightning_version"]?.stringValue }

    /// The longest run of leading dotted components every name shares, with its final dot
    /// (`"model."` for a Lightning module that keeps its network in `self.model`), or `""`.
    /// No name is entirely prefix.
    public var commonPrefix: String {
        var common: [Substring]?
        for name in names {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false).dropLast()
            guard let shared = common else {
                common = Array(parts)
                continue
            }
            common = Array(zip(shared, parts).prefix { $0 == $1 }.map(\.0))
        }
        guard let common, !common.isEmpty else { return "" }
        return common.joined(separator: ".") + "."
    }

    /// The tensors' elements, in file order.
    ///
    /// Half-precision and bfloat16 elements become `Float`, narrow integers and bools
    /// `Int32` (``NumericArray/elementType`` keeps the stored type). Non-contiguous views
    /// are gathered into row-major order.
    ///
    /// - Parameter names: if given, only tensors with these names are read.
    /// - Throws: ``FormatError``, such as ``FormatError/storageTooShort(file:tensor:storage:needed:available:)``.
    public func arrays(names: Set<String>? = nil) throws -> [(name: String, array: NumericArray)] {
        let archive = try NPZ.openArchive(url)
        let fileSize = try NPZ.sizeOfFile(url)
        // One pass over the directory; looking each storage up by name would re-read it every time.
        var entries: [String: Entry] = [:]
        for entry in archive where entry.type == .file && entries[entry.path] == nil {
            entries[entry.path] = entry
        }
        let bigEndian = try isBigEndian(entries["\(folder)/byteorder"], from: archive, fileSize: fileSize)
        // The storages are held at once, so together they must fit before any is inflated.
        let needed = Set(tensors.filter { names?.contains($0.name) ?? true }.map { "\(folder)/data/\($0.tensor.storage.key)" })
        try NPZ.requireTotal(needed.compactMap { entries[$0] }.map { UInt64(try NPZ.declaredSize(of: $0, file: url.path, fileSize: fileSize)) },
                             file: url.path)
        var storages: [String: Data] = [:]
        var result: [(name: String, array: NumericArray)] = []
        for (name, tensor) in tensors {
            if let names, !names.contains(name) { continue }
            let member = "\(folder)/data/\(tensor.storage.key)"
            let data: Data
            if let cached = storages[member] {
                data = cached
            } else {
                guard let entry = entries[member] else {
                    throw FormatError.archive(file: url.path, reason: "the storage '\(member)' a tensor refers to is missing")
                }
                // The size the pickle gives the storage is compared with the size the archive
                // declares before anything is inflated; extracting checks the bytes against both.
                let (expected, overflow) = tensor.storage.count.multipliedReportingOverflow(by: tensor.storage.elementType.byteCount)
                let declared = try NPZ.declaredSize(of: entry, file: url.path, fileSize: fileSize)
                guard !overflow, declared == expected else {
                    let problem: FormatError = overflow || declared < expected
                        ? .truncated(file: member, expected: overflow ? .max : expected, actual: declared)
                        : .trailingData(file: member, expected: expected, actual: declared)
                    throw FormatError.member(file: url.path, member: member, error: problem)
                }
                data = try NPZ.extract(entry, from: archive, file: url.path, fileSize: fileSize)
                storages[member] = data
            }
            let array = try Self.array(
                of: tensor, named: name, storage: data, member: member, bigEndian: bigEndian, file: url.path)
            result.append((name, array))
        }
        return result
    }

    // MARK: - Internals

    /// The `FOLDER/data.pkl` member, FOLDER being a single path component.
    static func pickleEntry(in archive: Archive) -> Entry? {
        archive.first { entry in
            let parts = entry.path.split(separator: "/", omittingEmptySubsequences: false)
            return entry.type == .file && parts.count == 2 && !parts[0].isEmpty && parts[1] == "data.pkl"
        }
    }

    /// Whether the `byteorder` member says the storages are big-endian (files without it are little-endian).
    func isBigEndian(_ entry: Entry?, from archive: Archive, fileSize: UInt64) throws -> Bool {
        guard let entry else { return false }
        let data = try NPZ.extract(entry, from: archive, file: url.path, fileSize: fileSize)
        switch String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) {
        case "little": return false
        case "big": return true
        case let other:
            throw FormatError.member(
                file: url.path, member: entry.path,
                error: .malformedHeader(file: entry.path, reason: "byte order '\(other.prefix(20))' is neither 'little' nor 'big'"))
        }
    }

    /// The entry to use as the state dict, and its key (`nil` for the whole file).
    static func stateDict(in root: PickleValue) -> (key: String?, value: PickleValue) {
        for key in ["state_dict", "model_state_dict", "model"] {
            if let value = root[key], case .dict = value { return (key, value) }
        }
        return (nil, root)
    }

    /// Every tensor in `value`, named by the keys that lead to it joined with dots.
    static func flatten(_ value: PickleValue, fileName: String, file: String) throws -> [(name: String, tensor: PickleValue.Tensor)] {
        var tensors: [(name: String, tensor: PickleValue.Tensor)] = []
        var seen = Set<String>()
        func visit(_ value: PickleValue, _ path: String?) throws {
            let children: [(key: String?, value: PickleValue)]
            switch value {
            case let .tensor(tensor):
                let name = path ?? fileName
                guard seen.insert(name).inserted else {
                    throw FormatError.invalidName(
                        file: file, name: name, reason: "two tensors have this name once nested keys are joined with dots")
                }
                tensors.append((name, tensor))
                return
            case let .dict(entries):
                children = entries.map { entry in
                    switch entry.key {
                    case let .string(key): return (key, entry.value)
                    case let .int(key): return (String(key), entry.value)
                    default: return (nil, entry.value)
                    }
                }
            case let .list(items), let .tuple(items):
                children = items.enumerated().map { (String($0.offset), $0.element) }
            default:
                return
            }
            for (key, child) in children {
                guard let key else { continue }
                try visit(child, path.map { "\($0).\(key)" } ?? key)
            }
        }
        try visit(value, nil)
        return tensors
    }

    /// The elements of `tensor`, checked against the storage's declared size first.
    static func array(
        of tensor: PickleValue.Tensor, named name: String, storage data: Data, member: String, bigEndian: Bool, file: String
    ) throws -> NumericArray {
        let type = tensor.storage.elementType
        guard let count = NumericArray.elementCount(tensor.shape) else {
            throw FormatError.shapeOverflow(file: file, shape: tensor.shape)
        }
        guard count > 0 else {
            let empty = ElementCoding.decode(UnsafeRawBufferPointer(start: nil, count: 0), type: type, count: 0)
            return NumericArray(shape: tensor.shape, elementType: type, storage: empty)
        }
        // One past the last storage element the view touches.
        var end = tensor.offset
        var overflow = false
        for (size, stride) in zip(tensor.shape, tensor.strides) {
            let step = (size - 1).multipliedReportingOverflow(by: stride)
            let sum = end.addingReportingOverflow(step.partialValue)
            overflow = overflow || step.overflow || sum.overflow
            end = sum.partialValue
        }
        let next = end.addingReportingOverflow(1)
        guard !overflow, !next.overflow else {
            throw FormatError.malformedTensor(file: file, tensor: name, reason: "its offset and strides overflow a 64-bit index")
        }
        end = next.partialValue
        guard end <= tensor.storage.count else {
            throw FormatError.storageTooShort(file: file, tensor: name, storage: member, needed: end, available: tensor.storage.count)
        }
        // A view may repeat storage elements (zero or overlapping strides, as `expand` makes),
        // but only so far: otherwise a tiny file could demand a huge allocation.
        let repeats = ResourceLimit.viewRepeat
        guard count <= max(tensor.storage.count, repeats.value) else {
            throw FormatError.malformedTensor(
                file: file, tensor: name,
                reason: "its strides repeat \(tensor.storage.count) stored elements into \(count), "
                    + "more than a view may repeat \(repeats.exceeded(needing: count))")
        }
        let span = end - tensor.offset
        let elements = data.withUnsafeBytes { raw in
            ElementCoding.decode(
                UnsafeRawBufferPointer(rebasing: raw[(tensor.offset * type.byteCount)...]), type: type,
                count: tensor.isContiguous ? count : span, bigEndian: bigEndian)
        }
        let storage = tensor.isContiguous
            ? elements
            : StridedGather.gather(elements, shape: tensor.shape, strides: tensor.strides, offset: 0)
        return NumericArray(shape: tensor.shape, elementType: type, storage: storage)
    }
}
