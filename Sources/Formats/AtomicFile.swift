import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing a file so that readers see either the old file or the complete new one.
///
/// The content goes to a hidden temporary file in the destination's folder (so the final
/// `rename(2)` stays on one file system and is atomic), which replaces the destination only
/// once it is complete. On any error the temporary file is removed and the destination is
/// left as it was.
public enum AtomicFile {
    /// Calls `produce` with a fresh temporary path next to `url`, then renames it onto `url`.
    ///
    /// `produce` must create the file at the path it is given; anything it throws is
    /// rethrown after cleanup.
    public static func write(to url: URL, _ produce: (URL) throws -> Void) throws {
        StagingName.removeStale(beside: url, kinds: ["tmp"])
        let temporary = StagingName.url(beside: url, kind: "tmp")
        do {
            try produce(temporary)
            guard rename(temporary.path, url.path) == 0 else {
                let reason = FormatError.reason(writing: url, after: POSIXError.current)
                throw FormatError.unwritable(file: url.path, reason: "cannot move the finished file into place: \(reason)")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Checks, before any work is done, that a file can be written at `url`: the path is
    /// not a folder, and its folder exists, is a folder and is writable.
    ///
    /// - Throws: ``FormatError/unwritable(file:reason:)`` saying why, in plain words.
    public static func checkWritable(_ url: URL) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw FormatError.unwritable(file: url.path, reason: "it is a folder, not a file")
        }
        let folder = url.deletingLastPathComponent()
        guard manager.fileExists(atPath: folder.path, isDirectory: &isDirectory) else {
            throw FormatError.unwritable(file: url.path, reason: "the folder \(folder.path) does not exist")
        }
        guard isDirectory.boolValue else {
            throw FormatError.unwritable(file: url.path, reason: "\(folder.path) is a file, not a folder")
        }
        guard manager.isWritableFile(atPath: folder.path) else {
            throw FormatError.unwritable(file: url.path, reason: "permission denied in \(folder.path)")
        }
    }

    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { temporary in
            do {
                try data.write(to: temporary, options: .withoutOverwriting)
            } catch {
                throw FormatError.unwritable(file: url.path, reason: FormatError.reason(writing: url, after: error))
            }
        }
    }
}

/// Reads a whole file, mapping it into memory when the system allows.
func readFile(_ url: URL) throws -> Data {
    do {
        return try Data(contentsOf: url, options: .mappedIfSafe)
    } catch {
        throw FormatError.unreadable(url, after: error)
    }
}

/// Reads `buffer.count` bytes of the file at `url` from `offset` into `buffer`, with
/// `pread`: what was read stays out of the process's memory but for `buffer` (a mapping
/// would keep every page it touched).
func readBytes(_ url: URL, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
    guard !buffer.isEmpty else { return }
    let descriptor = open(url.path, O_RDONLY)
    guard descriptor >= 0 else { throw FormatError.unreadable(url, after: POSIXError.current) }
    defer { close(descriptor) }
    var done = 0
    while done < buffer.count {
        let n = pread(descriptor, buffer.baseAddress!.advanced(by: done), buffer.count - done, off_t(offset + done))
        guard n > 0 else {
            throw n == 0 ? FormatError.truncated(file: url.path, expected: offset + buffer.count, actual: offset + done)
                         : FormatError.unreadable(url, after: POSIXError.current)
        }
        done += n
    }
}

/// Opens a file for reading; a failure is ``FormatError/unreadable(file:reason:)``.
func openForReading(_ url: URL) throws -> FileHandle {
    do {
        return try FileHandle(forReadingFrom: url)
    } catch {
        throw FormatError.unreadable(url, after: error)
    }
}
