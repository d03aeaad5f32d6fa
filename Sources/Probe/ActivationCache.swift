import Activations
import LinearAlgebra
import Networks

/// The activations a run recorded, by the names they were asked for.
///
/// Shapes are those of the graph: `[batch, channels, height, width]` after convolutions,
/// `[batch, tokens, features]` inside transformers, `[batch, features]` after dense layers.
public struct ActivationCache: Sendable {
    /// The layer names in the order they were requested.
    public let names: [String]
    let tensors: [String: Tensor]

    init(names: [String], tensors: [String: Tensor]) {
        self.names = names
        self.tensors = tensors
    }

    /// The activation recorded under `name`, or `nil`.
    public subscript(name: String) -> Tensor? { tensors[name] }

    /// The shape of each recorded activation, in request order.
    public var shapes: [(name: String, shape: [Int])] { names.compactMap { n in tensors[n].map { (n, $0.shape) } } }
}

/// A function attached to a hook point. It sees the activation as it is computed and may
/// replace it (return a tensor) or only observe it (return `nil`).
///
/// A hook point is the identity until a hook listens.
public struct Hook: Sendable {
    /// The tensor name or module path the hook attaches to.
    public let layer: String
    let body: @Sendable (Tensor) throws -> Tensor?

    /// A hook that may replace the activation.
    public init(_ layer: String, replace body: @escaping @Sendable (Tensor) throws -> Tensor?) {
        self.layer = layer
        self.body = body
    }

    /// A hook that only observes.
    public static func observe(_ layer: String, _ body: @escaping @Sendable (Tensor) throws -> Void) -> Hook {
        Hook(layer) { tensor in try body(tensor); return nil }
    }
}

/// A network with hook points: run it with a cache of chosen layers, with scoped hooks,
/// or with hooks installed until removed.
///
/// ```swift
/// let model = try HookedNetwork(Network(graph: graph, file: "resnet.onnx"))
/// let (outputs, cache) = try model.runWithCache(["input": images], names: .names(["layer1.0", "layer2.0"]))
/// let zeroed = try model.withHooks([Hook("layer1.0.relu") { t in zeros(like: t) }]) { try model.run(["input": images]) }
/// ```
public final class HookedNetwork: @unchecked Sendable {
    /// The network being run.
    public let network: Network
    /// Its hook points.
    public let catalog: LayerCatalog
    private var scopedHooks: [Hook] = []
    private var permanentHooks: [Hook] = []

    public init(_ network: Network) {
        self.network = network
        self.catalog = LayerCatalog(network)
    }

    /// Installs a hook until ``removeAllHooks()``.
    public func addPermanentHook(_ hook: Hook) throws {
        _ = try catalog.tensor(for: hook.layer)
        permanentHooks.append(hook)
    }

    /// Removes every permanent hook.
    public func removeAllHooks() { permanentHooks.removeAll() }

    /// Runs `body` with `hooks` installed; they are removed when it returns or throws.
    public func withHooks<R>(_ hooks: [Hook], _ body: () throws -> R) throws -> R {
        for hook in hooks { _ = try catalog.tensor(for: hook.layer) }
        let saved = scopedHooks
        scopedHooks += hooks
        defer { scopedHooks = saved }
        return try body()
    }

    /// Runs the network with the installed hooks; returns the graph outputs.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        try runWithCache(inputs, layers: []).outputs
    }

    /// Runs the network and records the activations of the layers `names` selects.
    ///
    /// Hooks run before recording, so the cache holds what later layers read.
    public func runWithCache(_ inputs: [String: Tensor], names filter: LayerFilter) throws
        -> (outputs: [String: Tensor], cache: ActivationCache)
    {
        try runWithCache(inputs, layers: filter.resolve(in: catalog))
    }

    func runWithCache(_ inputs: [String: Tensor], layers: [(name: String, tensor: String)]) throws
        -> (outputs: [String: Tensor], cache: ActivationCache)
    {
        var recorded: [String: Tensor] = [:]
        let outputs = try run(inputs, layers: layers) { index, value in recorded[layers[index].name] = value }
        return (outputs, ActivationCache(names: layers.map(\.name), tensors: recorded))
    }

    /// Runs the network and hands each of `layers` to `visit` (by its index in `layers`) as
    /// soon as it is computed, after the hooks; a layer listed twice is visited twice. The
    /// network frees each activation when its last reader has run, so a visitor that keeps
    /// only what it derives holds one layer at a time, not all of them.
    func run(_ inputs: [String: Tensor], layers: [(name: String, tensor: String)],
             visit: (Int, Tensor) throws -> Void) throws -> [String: Tensor] {
        let hooks = try (permanentHooks + scopedHooks).map { (try catalog.tensor(for: $0.layer), $0) }
        var hooksByTensor: [String: [Hook]] = [:]
        for (tensor, hook) in hooks { hooksByTensor[tensor, default: []].append(hook) }
        var wanted: [String: [Int]] = [:]
        for (index, layer) in layers.enumerated() { wanted[layer.tensor, default: []].append(index) }
        return try withoutActuallyEscaping(visit) { visit in
            try network.run(inputs, intercepting: Set(hooksByTensor.keys).union(wanted.keys)) { tensor, value in
                var current = value
                var replaced = false
                for hook in hooksByTensor[tensor] ?? [] {
                    if let replacement = try hook.body(current) { current = replacement; replaced = true }
                }
                for index in wanted[tensor] ?? [] { try visit(index, current) }
                return replaced ? current : nil
            }
        }
    }
}

extension ActivationCache {
    /// The activation recorded under `name` as a *samples × features* matrix (one row per
    /// input of the batch), reduced by `reduction`, in the element type the analysis wants:
    ///
    /// ```swift
    /// let (_, cache) = try model.runWithCache(["input": images], names: .names(["layer1.0", "layer2.0"]))
    /// let similarity = try CKA.linear(cache.matrix("layer1.0", reduction: .mean), cache.matrix("layer2.0", reduction: .mean))
    /// ```
    ///
    /// Float32 activations are reduced in Float32 (as a capture reduces them), then converted.
    ///
    /// - Throws: ``ProbeError/unknownLayer(name:model:available:)`` for a name the run did not
    ///   record, ``ActivationError`` for a reduction that cannot apply.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public func matrix<S: BLASScalar>(_ name: String, reduction: Reduction = .flatten, as type: S.Type = Double.self) throws -> Matrix<S> {
        guard let tensor = tensors[name] else {
            throw ProbeError.unknownLayer(name: name, model: "the activation cache", available: names)
        }
        let (rows, features) = try Reducer(reduction, layer: name, source: "the activation cache").reduce(tensor)
        return Matrix(rows: tensor.shape.first ?? 0, columns: features, rowMajor: (rows as? [S]) ?? rows.map { S($0) })
    }
}
