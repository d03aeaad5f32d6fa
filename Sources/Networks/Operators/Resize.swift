enum ResizeOperators {
    static let factories: [String: OperatorFactory] = [:]
}
