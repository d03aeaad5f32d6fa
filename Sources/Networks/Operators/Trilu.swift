/// Trilu: keeps the upper or lower triangle of the matrices in the last two axes and
/// zeroes the rest.
extension ShapeOperators {
    static func trilu(_ context: NodeContext) throws -> any Operator {
        let upper = try context.int("upper", default: 1) != 0
        return ClosureOperator { inputs in
            let data = try inputs.required(0)
            guard data.rank >= 2 else { throw KernelError("input of shape \(data.shape) is not a stack of matrices") }
            let diagonal = try inputs.optional(1).map { try TensorMovement.scalarInteger($0, what: "k") } ?? 0
            let rows = data.shape[data.rank - 2]
            let columns = data.shape[data.rank - 1]
            let storage = data.storage.visit(TriangleVisitor(rows: rows, columns: columns, diagonal: diagonal, upper: upper))
            return [Tensor(shape: data.shape, storage: storage)]
        }
    }

    /// Zeroes element (i, j) of each rows × columns matrix unless j − i ≥ k (upper) or
    /// j − i ≤ k (lower).
    private struct TriangleVisitor: StorageVisitor {
        let rows: Int
        let columns: Int
        let diagonal: Int
        let upper: Bool
        func visit<T: TensorElement>(_ elements: [T]) -> TensorStorage {
            var result = elements
            let matrix = rows * columns
            guard matrix > 0 else { return T.storage(result) }
            for start in stride(from: 0, to: elements.count, by: matrix) {
                for row in 0..<rows {
                    // Columns below `diagonal + row` (upper) or above it (lower) are zeroed.
                    let edge = min(max(diagonal + row + (upper ? 0 : 1), 0), columns)
                    let zeroed = upper ? 0..<edge : edge..<columns
                    for column in zeroed { result[start + row * columns + column] = T.zero }
                }
            }
            return T.storage(result)
        }
    }
}
