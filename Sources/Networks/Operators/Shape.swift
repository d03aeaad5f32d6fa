enum ShapeOperators {
    static let factories: [String: OperatorFactory] = [:]
}
