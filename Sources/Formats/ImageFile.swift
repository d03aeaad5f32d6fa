import CImageCodecs
import Foundation

/// PNG and JPEG images decoded by libpng and libjpeg-turbo into 8-bit pixels.
public struct DecodedImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// 1 (grey) or 3 (RGB).
    public var channels: Int
    /// Row-major, interleaved: `(y · width + x) · channels + c`.
    public var pixels: [UInt8]
}

public enum ImageFile {
    /// Whether the bytes start like a PNG or a JPEG.
    public static func isImage(_ prefix: [UInt8]) -> Bool {
        prefix.starts(with: [0x89, 0x50, 0x4E, 0x47]) || prefix.starts(with: [0xFF, 0xD8, 0xFF])
    }

    /// Decodes the PNG or JPEG at `url` to `channels` (1: grey, 3: RGB) channels.
    ///
    /// - Throws: ``FormatError/unreadable(file:reason:)`` for a file that cannot be read,
    ///   ``FormatError/invalidContent(file:reason:)`` for one that is not a PNG or JPEG, is
    ///   corrupt or truncated, or claims more than ``ResourceLimit/imagePixels`` pixels (checked before anything is
    ///   decoded, so that a small file cannot claim gigabytes).
    public static func read(_ url: URL, channels: Int) throws -> DecodedImage {
        precondition(channels == 1 || channels == 3, "images decode to 1 or 3 channels")
        let data = try SmallFile.data(url, within: .image)
        let bytes = [UInt8](data)
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try png(bytes, channels: channels, file: url.path) }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try jpeg(bytes, channels: channels, file: url.path) }
        throw FormatError.invalidContent(file: url.path, reason: "is neither a PNG nor a JPEG image")
    }

    static func checkSize(width: Int, height: Int, file: String) throws {
        guard width >= 1, height >= 1 else { throw FormatError.invalidContent(file: file, reason: "has an empty \(width)×\(height) image") }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        let limit = ResourceLimit.imagePixels
        guard !overflow, pixels <= limit.value else {
            throw FormatError.invalidContent(file: file, reason: "claims \(width)×\(height) pixels, more than an image may have \(limit.exceeded(needing: overflow ? nil : pixels))")
        }
    }

    static func png(_ bytes: [UInt8], channels: Int, file: String) throws -> DecodedImage {
        // libpng's control structure, zeroed as its documentation asks, then versioned.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<png_image>.size, alignment: MemoryLayout<png_image>.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<png_image>.size)
        let image = raw.bindMemory(to: png_image.self, capacity: 1)
        defer {
            png_image_free(image)
            raw.deallocate()
        }
        image.pointee.version = UInt32(PNG_IMAGE_VERSION)
        func failure() -> String {
            withUnsafeBytes(of: image.pointee.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(image, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw FormatError.invalidContent(file: file, reason: "is not a readable PNG (\(failure()))") }
        let (width, height) = (Int(image.pointee.width), Int(image.pointee.height))
        try checkSize(width: width, height: height, file: file)
        // PNG_FORMAT_RGB (PNG_FORMAT_FLAG_COLOR = 2) and PNG_FORMAT_GRAY (0), composite macros
        // that Swift does not import.
        image.pointee.format = channels == 3 ? 2 : 0
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let finished = pixels.withUnsafeMutableBytes { png_image_finish_read(image, nil, $0.baseAddress, 0, nil) }
        guard finished != 0 else { throw FormatError.invalidContent(file: file, reason: "is a corrupt or truncated PNG (\(failure()))") }
        return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    static func jpeg(_ bytes: [UInt8], channels: Int, file: String) throws -> DecodedImage {
        guard let handle = tjInitDecompress() else { throw FormatError.invalidContent(file: file, reason: "the JPEG decoder could not start") }
        defer { tjDestroy(handle) }
        func failure() -> String { String(cString: tjGetErrorStr2(handle)) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colorspace)
        }
        guard header == 0 else { throw FormatError.invalidContent(file: file, reason: "is not a readable JPEG (\(failure()))") }
        try checkSize(width: Int(width), height: Int(height), file: file)
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        let format = channels == 3 ? TJPF_RGB : TJPF_GRAY
        let decoded = bytes.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                tjDecompress2(handle, source.baseAddress, UInt(source.count), target.baseAddress, width, 0, height,
                              Int32(format.rawValue), TJFLAG_ACCURATEDCT)
            }
        }
        // A warning (such as a few missing bytes at the end) still decodes; an error does not.
        if decoded != 0 && tjGetErrorCode(handle) == TJERR_FATAL.rawValue {
            throw FormatError.invalidContent(file: file, reason: "is a corrupt or truncated JPEG (\(failure()))")
        }
        if decoded != 0 {
            throw FormatError.invalidContent(file: file, reason: "is a damaged JPEG (\(failure()))")
        }
        return DecodedImage(width: Int(width), height: Int(height), channels: channels, pixels: pixels)
    }
}
