import Foundation
import Testing
@testable import Formats

/// SHA-256 against the test vectors of FIPS 180-4's examples (NIST CSRC).
@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownDigests(message: String, digest: String) {
        #expect(SHA256.hexDigest(of: Data(message.utf8)) == digest)
    }

    @Test func aMillionAsInPiecesAndFromAFile() throws {
        var hasher = SHA256()
        for _ in 0..<1000 { hasher.update(Data(repeating: UInt8(ascii: "a"), count: 1000)) }
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(hasher.hexDigest() == expected)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
        try Data(repeating: UInt8(ascii: "a"), count: 1_000_000).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try SHA256.hexDigest(ofFile: file) == expected)
        #expect(throws: FormatError.self) { try SHA256.hexDigest(ofFile: file.appendingPathExtension("missing")) }
    }
}
