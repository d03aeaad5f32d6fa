import Foundation
import Formats
import Testing
import ZIPFoundation

/// What `make_pytorch_fixtures.py` recorded with torch about each readable fixture.
struct ExpectedCheckpoint: Decodable {
    struct Tensor: Decodable {
        let dtype: String
        let shape: [Int]
        let values: [Double]
    }

    let names: [String]
    let tensors: [String: Tensor]
    let stateDictKey: String?
    let commonPrefix: String
    let lightningVersion: String?

    static let all: [String: ExpectedCheckpoint] = {
        struct File: Decodable { let files: [String: ExpectedCheckpoint] }
        guard let data = try? Data(contentsOf: Fixtures.pytorch("expected.json")),
            let file = try? JSONDecoder().decode(File.self, from: data)
        else { return [:] }
        return file.files
    }()
}

@Suite("PyTorch checkpoints")
struct PyTorchCheckpointTests {
    static let readable = [
        "state_dict.pt", "dtypes.pt", "views.pt", "nested.pt", "tensor.pt", "big_endian.pt", "globals.pt", "lightning.ckpt",
    ]

    @Test("the expectations were recorded for every readable fixture")
    func expectationsPresent() {
        #expect(Set(ExpectedCheckpoint.all.keys) == Set(Self.readable))
    }

    @Test("reads every tensor exactly as torch holds it", arguments: readable)
    func values(file: String) throws {
        let expected = try #require(ExpectedCheckpoint.all[file])
        let arrays = try PyTorchCheckpoint.read(Fixtures.pytorch(file))
        #expect(arrays.map(\.name) == expected.names)
        for (name, array) in arrays {
            let want = try #require(expected.tensors[name])
            #expect(array.shape == want.shape, "\(name)")
            #expect(array.elementType.rawValue == want.dtype, "\(name)")
            // Bit patterns, so that -0.0 must stay -0.0.
            #expect(array.doubles().map(\.bitPattern) == want.values.map(\.bitPattern), "\(name)")
        }
    }

    @Test("finds the state dict and reports its prefix", arguments: readable)
    func stateDict(file: String) throws {
        let expected = try #require(ExpectedCheckpoint.all[file])
        let checkpoint = try PyTorchCheckpoint(contentsOf: Fixtures.pytorch(file))
        #expect(checkpoint.stateDictKey == expected.stateDictKey)
        #expect(checkpoint.commonPrefix == expected.commonPrefix)
        #expect(checkpoint.lightningVersion == expected.lightningVersion)
        #expect(checkpoint.names == expected.names)
    }

    @Test("keeps the rest of a Lightning checkpoint as plain values")
    func lightningTree() throws {
        let checkpoint = try PyTorchCheckpoint(contentsOf: Fixtures.pytorch("lightning.ckpt"))
        #expect(checkpoint.folder == "archive")
        #expect(checkpoint.root["epoch"] == .int(1))
        #expect(checkpoint.root["hyper_parameters"]?["hidden"] == .int(4))
        guard case let .list(optimizers)? = checkpoint.root["optimizer_states"], case .dict? = optimizers.first?["state"] else {
            Issue.record("no optimizer state in \(checkpoint.root.dictEntries?.map(\.key) ?? [])")
            return
        }
        #expect(checkpoint.names.allSatisfy { $0.hasPrefix("model.") })
    }

    @Test("turns a Parameter, torch.Size, a dtype and an AttributeDict into plain values")
    func otherGlobals() throws {
        let root = try PyTorchCheckpoint(contentsOf: Fixtures.pytorch("globals.pt")).root
        guard case let .tensor(parameter)? = root["p"] else {
            Issue.record("p is not a tensor: \(String(describing: root["p"]))")
            return
        }
        #expect(parameter.requiresGrad)
        #expect(parameter.storage.elementType == .float32)
        #expect(root["size"] == .tuple([.int(2), .int(3)]))
        #expect(root["dtype"] == .global(module: "torch", name: "float16"))
        #expect(root["hparams"] == .dict([
            .init(key: .string("lr"), value: .float(0.5)),
            .init(key: .string("layers"), value: .list([.int(1), .int(2)])),
        ]))
    }

    @Test("describes views of one storage by offset and strides")
    func views() throws {
        let checkpoint = try PyTorchCheckpoint(contentsOf: Fixtures.pytorch("views.pt"))
        let tensors = Dictionary(uniqueKeysWithValues: checkpoint.tensors.map { ($0.name, $0.tensor) })
        let keys = Set(tensors.values.map(\.storage.key))
        #expect(keys.count == 1)
        #expect(tensors["transposed"]?.strides == [1, 4])
        #expect(tensors["transposed"]?.isContiguous == false)
        #expect(tensors["sliced"]?.offset == 5)
        #expect(tensors["row"]?.offset == 8)
        #expect(tensors["row"]?.isContiguous == true)
        #expect(tensors["expanded"]?.strides == [0, 1])
    }

    @Test("reads only the tensors asked for")
    func namesFilter() throws {
        let url = Fixtures.pytorch("state_dict.pt")
        let arrays = try PyTorchCheckpoint.read(url, names: ["1.num_batches_tracked", "0.bias"])
        #expect(arrays.map(\.name) == ["0.bias", "1.num_batches_tracked"])
        #expect(arrays.last?.array == NumericArray(shape: [], int64: [2]))
    }

    @Test("ArrayFile reads PyTorch checkpoints like any other array file")
    func arrayFile() throws {
        let url = Fixtures.pytorch("lightning.ckpt")
        #expect(try FileFormat.detect(url) == .pytorch)
        #expect(try ArrayFile.names(url) == ExpectedCheckpoint.all["lightning.ckpt"]?.names)
        let viaArrayFile = try ArrayFile.read(url, names: ["model.0.weight"])
        let direct = try PyTorchCheckpoint.read(url, names: ["model.0.weight"])
        #expect(viaArrayFile.map(\.array) == direct.map(\.array))
        #expect(viaArrayFile.first?.array.shape == [4, 3])
    }

    // MARK: Refusals

    @Test("refuses the legacy non-zip format with a clear message")
    func legacy() throws {
        let url = Fixtures.pytorch("legacy.pt")
        #expect(try FileFormat.detect(url) == .legacyPyTorch)
        let error = formatError { try ArrayFile.read(url) }
        guard case .unsupportedVersion(url.path, let version)? = error else {
            Issue.record("expected unsupportedVersion, got \(String(describing: error))")
            return
        }
        #expect(version.contains("_use_new_zipfile_serialization=False"))
        #expect(error?.description.contains("legacy.pt") == true)
    }

    @Test("refuses a pickle that names os.system", arguments: ["hostile_global.pt", "hostile_stack_global.pt"])
    func refusesSystem(file: String) {
        let url = Fixtures.pytorch(file)
        let error = formatError { try PyTorchCheckpoint.read(url) }
        let refusal = FormatError.refusedGlobal(file: "archive/data.pkl", global: "os.system")
        #expect(error == .member(file: url.path, member: "archive/data.pkl", error: refusal))
        #expect(error?.description.contains(file) == true)
        #expect(error?.description.contains("refuses to load the global 'os.system'") == true)
    }

    @Test(
        "damaged checkpoints fail with an error naming the file and the problem",
        arguments: [
            ("hostile_truncated.pt", "member 'archive/data.pkl': malformed pickle at byte"),
            ("hostile_memo.pt", "BINGET refers to memo entry 250, which was never stored"),
            ("hostile_short_storage.pt", "tensor 'weight' needs 6 elements of storage 'archive/data/0', which holds 3"),
            ("hostile_short_record.pt", "member 'archive/data/0': truncated: expected 24 bytes, found 12"),
            ("hostile_size.pt", "member 'archive/data/0': the header claims 4000 bytes but only 24 are available"),
        ])
    func damaged(file: String, problem: String) {
        let url = Fixtures.pytorch(file)
        let error = formatError { try ArrayFile.read(url) }
        let description = error?.description ?? ""
        #expect(description.hasPrefix(url.path + ": "), "\(description)")
        #expect(description.contains(problem), "\(description)")
    }

    @Test("a tensor that reaches past its storage is named")
    func shortStorage() {
        let url = Fixtures.pytorch("hostile_short_storage.pt")
        let error = formatError { try PyTorchCheckpoint.read(url) }
        #expect(error == .storageTooShort(file: url.path, tensor: "weight", storage: "archive/data/0", needed: 6, available: 3))
    }

    // MARK: Format detection

    @Test("a zip with FOLDER/data.pkl is a PyTorch checkpoint; other zips are not")
    func detection() throws {
        #expect(try FileFormat.detect(Fixtures.formats("torch_like.zip")) == .pytorch)
        #expect(try ArrayFile.read(Fixtures.formats("torch_like.zip")).isEmpty)
        try withTemporaryDirectory { folder in
            let nested = try Self.zip(["a/b/data.pkl": [0x4E, 0x2E]], "nested.zip", in: folder)
            let plain = try Self.zip(["notes.txt": Array("hi".utf8)], "plain.zip", in: folder)
            #expect(try FileFormat.detect(nested) == .zip)
            #expect(try FileFormat.detect(plain) == .zip)
            let error = formatError { try PyTorchCheckpoint(contentsOf: plain) }
            guard case .archive(plain.path, _)? = error else {
                Issue.record("expected an archive error, got \(String(describing: error))")
                return
            }
        }
    }

    @Test("a missing storage member and a strange byte order are named")
    func missingPieces() throws {
        try withTemporaryDirectory { folder in
            let source = try Archive(url: Fixtures.pytorch("tensor.pt"), accessMode: .read)
            var members: [String: [UInt8]] = [:]
            for entry in source where entry.type == .file {
                var data = Data()
                _ = try source.extract(entry) { data.append($0) }
                members[entry.path] = [UInt8](data)
            }
            var noStorage = members
            noStorage["tensor/data/0"] = nil
            let missing = try Self.zip(noStorage, "missing.pt", in: folder)
            let missingError = formatError { try PyTorchCheckpoint.read(missing) }
            #expect(missingError?.description.contains("'tensor/data/0' a tensor refers to is missing") == true)

            var middleEndian = members
            middleEndian["tensor/byteorder"] = Array("middle".utf8)
            let strange = try Self.zip(middleEndian, "strange.pt", in: folder)
            let error = formatError { try PyTorchCheckpoint.read(strange) }
            #expect(error?.description.contains("byte order 'middle' is neither 'little' nor 'big'") == true)
        }
    }

    /// Writes a stored zip with `members` (sorted by name) and returns its URL.
    static func zip(_ members: [String: [UInt8]], _ name: String, in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent(name)
        let archive = try Archive(url: url, accessMode: .create)
        for (path, bytes) in members.sorted(by: { $0.key < $1.key }) {
            let data = Data(bytes)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count)) { position, size in
                data.subdata(in: Int(position)..<(Int(position) + size))
            }
        }
        return url
    }
}
