enum ElementwiseOperators {
    static let factories: [String: OperatorFactory] = [:]
}
