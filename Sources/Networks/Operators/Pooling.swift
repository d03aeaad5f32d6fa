enum PoolingOperators {
    static let factories: [String: OperatorFactory] = [:]
}
