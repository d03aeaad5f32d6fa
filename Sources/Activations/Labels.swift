import Formats
import Foundation

/// Class labels, one integer per sample, read from an array file.
public enum Labels {
    /// Reads a label vector from an `.npy`, `.npz`, `.safetensors` or PyTorch file.
    ///
    /// The array may be a vector or an N×1 array, of any integer type, or of a floating-point
    /// type whose values are all integers (as when labels went through a float array).
    ///
    /// - Parameter name: which array holds the labels; may be omitted when the file holds
    ///   exactly one.
    /// - Throws: ``FormatError`` for a file that cannot be read; ``ActivationError`` for a
    ///   missing or ambiguous array, a wrong shape or a non-integral value.
    public static func load(_ url: URL, name: String? = nil) throws -> [Int] {
        let file = url.path
        // Names first, so that only the label array is decoded (it may sit beside activations).
        let available = try ArrayFile.names(url)
        let wanted: String
        if let name {
            guard available.contains(name) else { throw ActivationError.unknownName(file: file, name: name, available: available) }
            wanted = name
        } else {
            guard let only = available.first else { throw ActivationError.noArrays(file: file) }
            guard available.count == 1 else { throw ActivationError.ambiguousLabels(file: file, available: available) }
            wanted = only
        }
        guard let chosen = try ArrayFile.read(url, names: [wanted]).first else { throw ActivationError.noArrays(file: file) }
        let shape = chosen.array.shape
        guard shape.count == 1 || (shape.count == 2 && shape[1] == 1) else {
            throw ActivationError.labelShape(file: file, name: chosen.name, shape: shape)
        }
        if let values = chosen.array.int64s() {
            return values.map { Int($0) }
        }
        let doubles = chosen.array.doubles()
        let index = doubles.firstIndex { Int64(exactly: $0) == nil } ?? 0
        throw ActivationError.nonIntegralLabel(file: file, name: chosen.name, index: index, value: doubles[index])
    }
}
