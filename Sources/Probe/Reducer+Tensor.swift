import Activations
import Networks

extension Reducer {
    /// The reduced rows of a batch's activation, row-major, and the feature count; float64
    /// activations are reduced as float32, the type capture stores.
    ///
    /// `tokenMask` (`[samples, tokens]`, from the batch's `attention_mask`) applies to token
    /// layers whose token axis it fits.
    func reduce(_ tensor: Tensor, tokenMask: (shape: [Int], values: [Bool])? = nil) throws -> (rows: [Float], features: Int) {
        let mask = tokenMask.flatMap { mask in
            tensor.rank == 3 && Array(tensor.shape.prefix(2)) == mask.shape ? mask.values : nil
        }
        switch tensor.storage {
        case let .float32(values): return try reduce(values, shape: tensor.shape, tokenMask: mask)
        case let .float64(values): return try reduce(values.map(Float.init), shape: tensor.shape, tokenMask: mask)
        default:
            throw ActivationError.invalidReduction(
                file: source, layer: layer, problem: "activation of type \(tensor.dataType) cannot be captured; choose a float layer")
        }
    }
}
