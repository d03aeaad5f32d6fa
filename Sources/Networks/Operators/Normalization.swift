enum NormalizationOperators {
    static let factories: [String: OperatorFactory] = [:]
}
