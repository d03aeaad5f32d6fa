import Foundation
import Formats
import Networks

/// Inputs for a network, read batch by batch along axis 0.
public protocol InputSource: Sendable {
    /// The number of samples.
    var count: Int { get }
    /// The shape of one sample.
    var sampleShape: [Int] { get }
    /// Where the inputs come from, for messages.
    var origin: String { get }
    /// Samples `range` as one tensor `[range.count] + sampleShape`.
    func batch(_ range: Range<Int>) throws -> Tensor
}

/// Inputs held in memory.
public struct TensorInputs: InputSource {
    public let tensor: Tensor
    public let origin: String

    public init(_ tensor: Tensor, origin: String = "<memory>") {
        self.tensor = tensor
        self.origin = origin
    }

    public var count: Int { tensor.shape.first ?? 0 }
    public var sampleShape: [Int] { Array(tensor.shape.dropFirst()) }

    public func batch(_ range: Range<Int>) throws -> Tensor {
        let width = Tensor.count(sampleShape)
        let shape = [range.count] + sampleShape
        let slice = range.lowerBound * width..<range.upperBound * width
        switch tensor.storage {
        case let .float32(v): return Tensor(shape: shape, elements: Array(v[slice]))
        case let .float64(v): return Tensor(shape: shape, elements: Array(v[slice]))
        case let .int64(v): return Tensor(shape: shape, elements: Array(v[slice]))
        case let .int32(v): return Tensor(shape: shape, elements: Array(v[slice]))
        case let .int8(v): return Tensor(shape: shape, elements: Array(v[slice]))
        case let .uint8(v): return Tensor(shape: shape, elements: Array(v[slice]))
        case let .bool(v): return Tensor(shape: shape, elements: Array(v[slice]))
        }
    }
}

/// Inputs streamed from a `.npy` file: only the batch being run is in memory.
public struct NPYInputs: InputSource, @unchecked Sendable {
    let reader: NPYRowReader

    public init(_ url: URL) throws {
        reader = try NPYRowReader(url)
    }

    public var count: Int { reader.rowCount }
    public var sampleShape: [Int] { Array(reader.shape.dropFirst()) }
    public var origin: String { reader.url.path }

    public func batch(_ range: Range<Int>) throws -> Tensor { Tensor(try reader.rows(range)) }
}

extension NPYInputs {
    /// Streamed inputs for a network from `.npy` files by graph input name; `""` names the
    /// input of a network that has one.
    ///
    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` for `""` on a network with
    ///   several inputs; ``FormatError`` for a file that is not a readable `.npy`.
    public static func sources(_ files: [String: URL], for network: Network) throws -> [String: any InputSource] {
        let names = network.graph.inputs.map(\.name)
        var sources: [String: any InputSource] = [:]
        for (name, url) in files {
            if name.isEmpty {
                guard names.count == 1 else {
                    throw ProbeError.invalidInput(
                        file: network.file, problem: "\(names.count) inputs (\(names.joined(separator: ", "))); give each as --input NAME=FILE.npy")
                }
                sources[names[0]] = try NPYInputs(url)
            } else {
                sources[name] = try NPYInputs(url)
            }
        }
        return sources
    }
}

/// Samples `range` of another source, numbered from 0: one shard's share of the inputs.
public struct InputSlice: InputSource {
    public let base: any InputSource
    public let range: Range<Int>

    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` when `range` reaches past the
    ///   source's samples.
    public init(_ base: any InputSource, range: Range<Int>) throws {
        guard range.lowerBound >= 0, range.upperBound <= base.count else {
            throw ProbeError.invalidInput(file: base.origin, problem: "has \(base.count) samples, not samples \(range.lowerBound)..<\(range.upperBound)")
        }
        self.base = base
        self.range = range
    }

    public var count: Int { range.count }
    public var sampleShape: [Int] { base.sampleShape }
    public var origin: String { base.origin }

    public func batch(_ samples: Range<Int>) throws -> Tensor {
        try base.batch((range.lowerBound + samples.lowerBound)..<(range.lowerBound + samples.upperBound))
    }
}
