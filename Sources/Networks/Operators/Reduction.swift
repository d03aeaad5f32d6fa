enum ReductionOperators {
    static let factories: [String: OperatorFactory] = [:]
}
