enum ConvolutionOperators {
    static let factories: [String: OperatorFactory] = [:]
}
