import Formats
import Foundation

/// A problem turning arrays from a file into activations or labels.
///
/// Every case carries the path of the file concerned (or the `source` an activation set
/// was built with). Problems with the file's format itself arrive as ``FormatError``.
public enum ActivationError: Error, Equatable, Sendable {
    /// The file holds no arrays.
    case noArrays(file: String)
    /// No array has the requested name; `available` lists those that exist.
    case unknownName(file: String, name: String, available: [String])
    /// Two arrays have the same name.
    case duplicateName(file: String, name: String)
    /// An integer array was offered as activations (integers are labels, not activations).
    case integerArray(file: String, layer: String, elementType: ElementType)
    /// A rank-0 array has no sample axis.
    case scalarArray(file: String, layer: String)
    /// `mean`, `max` or `center` was asked to reduce over an axis of length zero.
    case emptyReduction(file: String, layer: String, shape: [Int], reduction: Reduction)
    /// A reduction that cannot apply to a layer's activation.
    case invalidReduction(file: String, layer: String, problem: String)
    /// A NaN or infinity in the data, at row-major `index` (`position` per dimension).
    case nonFinite(file: String, layer: String, index: Int, position: [Int], value: Double)
    /// A layer's sample count differs from that of the first layer, `reference`.
    case sampleCountMismatch(file: String, layer: String, count: Int, expected: Int, reference: String)
    /// Several arrays could hold the labels and none was named.
    case ambiguousLabels(file: String, available: [String])
    /// A label array is neither 1-D nor N×1.
    case labelShape(file: String, name: String, shape: [Int])
    /// A floating-point label is not an integer.
    case nonIntegralLabel(file: String, name: String, index: Int, value: Double)
    /// Activations can only be written as floating-point types.
    case unsupportedWriteType(file: String, elementType: ElementType)
    /// Activations larger than memory must be read a block of samples at a time, which this
    /// format does not allow.
    case notStreamable(file: String, format: String)

    /// The path of the file (or the source) the error is about.
    public var file: String {
        switch self {
        case let .noArrays(file), let .unknownName(file, _, _), let .duplicateName(file, _),
            let .integerArray(file, _, _), let .scalarArray(file, _), let .emptyReduction(file, _, _, _), let .invalidReduction(file, _, _),
            let .nonFinite(file, _, _, _, _), let .sampleCountMismatch(file, _, _, _, _),
            let .ambiguousLabels(file, _), let .labelShape(file, _, _), let .nonIntegralLabel(file, _, _, _),
            let .unsupportedWriteType(file, _), let .notStreamable(file, _):
            return file
        }
    }

    /// The problem alone, without the file path.
    public var problem: String {
        switch self {
        case .noArrays:
            return "the file holds no arrays"
        case let .unknownName(_, name, available):
            return "no array named '\(name)'; available: \(Self.list(available))"
        case let .duplicateName(_, name):
            return "two arrays are named '\(name)'"
        case let .integerArray(_, layer, elementType):
            return "layer '\(layer)' holds \(elementType) values; integer arrays are labels, not activations"
        case let .scalarArray(_, layer):
            return "layer '\(layer)' is a scalar; activations need a sample axis"
        case let .emptyReduction(_, layer, shape, reduction):
            return "layer '\(layer)' of shape \(shape): cannot take the \(reduction) over an empty axis"
        case let .invalidReduction(_, layer, problem):
            return "layer '\(layer)': \(problem)"
        case let .nonFinite(_, layer, index, position, value):
            return "layer '\(layer)' holds \(value) at element \(index) (index \(position))"
        case let .sampleCountMismatch(_, layer, count, expected, reference):
            return "layer '\(layer)' has \(count) samples but layer '\(reference)' has \(expected)"
        case let .ambiguousLabels(_, available):
            return "several arrays could be the labels; name one (with --label-array on the command line) of: \(Self.list(available))"
        case let .labelShape(_, name, shape):
            return "labels '\(name)' have shape \(shape); expected a vector or an N×1 array"
        case let .nonIntegralLabel(_, name, index, value):
            return "labels '\(name)': element \(index) is \(value), not an integer"
        case let .unsupportedWriteType(_, elementType):
            return "activations cannot be written as \(elementType); use a floating-point type"
        case let .notStreamable(_, format):
            return "a \(format) file cannot be read a block of samples at a time; capture to NAME.safetensors "
                + "(sharded beyond --max-shard-size) to analyse activations larger than memory"
        }
    }

    static func list(_ names: [String]) -> String {
        names.isEmpty ? "(none)" : names.joined(separator: ", ")
    }
}

extension ActivationError: CustomStringConvertible, LocalizedError {
    public var description: String { "\(file): \(problem)" }
    public var errorDescription: String? { description }
}
