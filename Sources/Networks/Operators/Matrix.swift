enum MatrixOperators {
    static let factories: [String: OperatorFactory] = [:]
}
