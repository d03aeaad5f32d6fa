import Formats
import Foundation
import LinearAlgebra

/// The activations of several layers for the same inputs: one *samples × features* matrix
/// per layer, in a fixed layer order.
///
/// Row `i` of every layer's matrix belongs to the same input, so all layers have the same
/// number of rows (``sampleCount``). Values are `Double`, whatever precision the file held.
public struct ActivationSet: Sendable {
    /// One layer's activations.
    public struct Layer: Sendable, Equatable {
        /// The array's name in the file (for example `layer1.0.conv1`).
        public let name: String
        /// Samples × features.
        public let matrix: Matrix<Double>

        public init(name: String, matrix: Matrix<Double>) {
            self.name = name
            self.matrix = matrix
        }
    }

    /// The layers, in file order (or in the order requested when loading).
    public let layers: [Layer]
    /// Where the activations came from: a file path, or any label the creator chose.
    public let source: String

    /// Builds a set from layers that share a sample count.
    ///
    /// - Throws: ``ActivationError/duplicateName(file:name:)`` or
    ///   ``ActivationError/sampleCountMismatch(file:layer:count:expected:reference:)``, naming `source`.
    public init(layers: [Layer], source: String) throws {
        var seen = Set<String>()
        for layer in layers {
            guard seen.insert(layer.name).inserted else { throw ActivationError.duplicateName(file: source, name: layer.name) }
            if let first = layers.first, layer.matrix.rows != first.matrix.rows {
                throw ActivationError.sampleCountMismatch(
                    file: source, layer: layer.name, count: layer.matrix.rows, expected: first.matrix.rows,
                    reference: first.name)
            }
        }
        self.layers = layers
        self.source = source
    }

    /// The number of samples (rows) every layer has; 0 for an empty set.
    public var sampleCount: Int { layers.first?.matrix.rows ?? 0 }

    /// The layer names, in order.
    public var layerNames: [String] { layers.map(\.name) }

    /// The matrix of the layer called `name`.
    ///
    /// - Throws: ``ActivationError/unknownName(file:name:available:)`` listing the layers there are.
    public func layer(named name: String) throws -> Matrix<Double> {
        guard let layer = layers.first(where: { $0.name == name }) else {
            throw ActivationError.unknownName(file: source, name: name, available: layerNames)
        }
        return layer.matrix
    }

    /// The array that activation files written by a capture use for the id of each sample
    /// (row); it is not a layer.
    public static let sampleIDsName = "sample_ids"

    /// Loads activations from an `.npy`, `.npz`, `.safetensors` or PyTorch file (recognised by content).
    ///
    /// An array named ``sampleIDsName`` holds sample ids, not activations, and is skipped.
    ///
    /// Each array becomes one layer: axis 0 is the sample axis, rank 1 gives one feature per
    /// sample, rank 2 is used as is, and rank ≥ 3 is turned into a matrix by `reduction`
    /// (see ``Reduction`` for which axes are reduced).
    ///
    /// - Parameters:
    ///   - reduction: how arrays of rank ≥ 3 become matrices (`project` also projects
    ///     matrices).
    ///   - layers: the layers to load, in the order wanted; `nil` loads all, in file order.
    /// - Throws: ``FormatError`` for a file that cannot be read; ``ActivationError`` for an
    ///   unknown layer name, an integer array, a scalar, a NaN or infinity (with its index),
    ///   or layers whose sample counts differ.
    public static func load(_ url: URL, reduction: Reduction = .flatten, layers: [String]? = nil) throws -> ActivationSet {
        let file = url.path
        // A layer named twice is read once.
        let wanted = layers.map { $0.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } } }
        // Files whose rows can be read in place go a block at a time into their matrices. A
        // single file that cannot (another format, a Fortran-order .npy, tensors of other
        // first dimensions) is read whole, and refused there with its own error if damaged.
        let inPlace = ArrayShards.index(for: url) == nil ? try? ActivationStream.rows(of: url) : try ActivationStream.rows(of: url)
        if let shards = inPlace {
            let stream = try ActivationStream(shards, source: file, reduction: reduction, layers: wanted)
            if stream.sampleCount > 0 {
                return try ActivationSet(layers: try stream.layerNames.indices.map { Layer(name: stream.layerNames[$0], matrix: try stream.matrix(layer: $0)) },
                                         source: file)
            }
        }
        if let wanted {
            let available = try ArrayFile.names(url)
            for name in wanted where !available.contains(name) {
                throw ActivationError.unknownName(file: file, name: name, available: available)
            }
        }
        // Each array becomes its matrix as it is read (an .npz member at a time), so that its
        // decoded copy is freed before the next is read.
        var result: [Layer] = []
        try ArrayFile.forEachArray(url, names: wanted.map { Set($0) }) { name, array in
            guard wanted != nil || name != sampleIDsName else { return }
            result.append(Layer(name: name, matrix: try matrix(from: array, name: name, reduction: reduction, file: file)))
        }
        try checkUnique(result.map(\.name), file: file)
        if let wanted { result = wanted.compactMap { name in result.first { $0.name == name } } }
        guard !result.isEmpty else { throw ActivationError.noArrays(file: file) }
        return try ActivationSet(layers: result, source: file)
    }

    /// Writes every layer as a 2-D array (samples × features) named after the layer, atomically.
    ///
    /// - Parameters:
    ///   - format: `.npz`, `.npzCompressed` or `.safetensors`.
    ///   - elementType: a floating-point type; `float64` keeps every value exactly.
    /// - Throws: ``ActivationError/unsupportedWriteType(file:elementType:)`` for integer types,
    ///   ``FormatError`` for anything the writer refuses.
    public func write(to url: URL, format: ArrayFile.WriteFormat = .npz, elementType: ElementType = .float64) throws {
        guard elementType.isFloatingPoint else {
            throw ActivationError.unsupportedWriteType(file: url.path, elementType: elementType)
        }
        let arrays = layers.map { layer -> (name: String, array: NumericArray) in
            let shape = [layer.matrix.rows, layer.matrix.columns]
            let values = layer.matrix.rowMajorElements
            let array = elementType == .float64
                ? NumericArray(shape: shape, float64: values)
                : NumericArray(shape: shape, elementType: elementType, storage: .float32(values.map(Float.init)))
            return (layer.name, array)
        }
        try ArrayFile.write(arrays, to: url, format: format)
    }

    // MARK: - Internals

    static func checkUnique(_ names: [String], file: String) throws {
        var seen = Set<String>()
        for name in names where !seen.insert(name).inserted {
            throw ActivationError.duplicateName(file: file, name: name)
        }
    }

    /// One array as a samples × features matrix, after checking it can be activations.
    static func matrix(from array: NumericArray, name: String, reduction: Reduction, file: String) throws -> Matrix<Double> {
        guard array.elementType.isFloatingPoint else {
            throw ActivationError.integerArray(file: file, layer: name, elementType: array.elementType)
        }
        guard array.rank >= 1 else { throw ActivationError.scalarArray(file: file, layer: name) }
        if let (index, value) = array.firstNonFinite() {
            throw ActivationError.nonFinite(
                file: file, layer: name, index: index, position: array.position(ofFlatIndex: index), value: value)
        }
        let (rows, features) = try Reducer(reduction, layer: name, source: file).reduce(array.doubles(), shape: array.shape)
        return Matrix(rows: array.shape[0], columns: features, rowMajor: rows)
    }
}
