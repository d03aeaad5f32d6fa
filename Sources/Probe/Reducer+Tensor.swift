import Activations
import Networks

extension Reducer {
    /// The reduced rows of a batch's activation, row-major, and the feature count; float64
    /// activations are reduced as float32, the type capture stores.
    func reduce(_ tensor: Tensor) throws -> (rows: [Float], features: Int) {
        switch tensor.storage {
        case let .float32(values): return try reduce(values, shape: tensor.shape)
        case let .float64(values): return try reduce(values.map(Float.init), shape: tensor.shape)
        default:
            throw ActivationError.invalidReduction(
                file: source, layer: layer, problem: "activation of type \(tensor.dataType) cannot be captured; choose a float layer")
        }
    }
}
