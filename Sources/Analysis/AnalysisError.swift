/// A problem with the matrices handed to an analysis, described so a user can fix the input.
public enum AnalysisError: Error, Equatable, CustomStringConvertible {
    /// Two representations disagree on how many samples (rows) they hold.
    case sampleCountMismatch(first: Int, second: Int, context: String)
    /// An estimator needs more samples than it was given.
    case tooFewSamples(needed: Int, got: Int, context: String)
    /// CCA needs more samples than features; it would report correlations of 1 otherwise.
    case tooFewSamplesForCCA(samples: Int, features: Int, context: String)
    /// A representation with no variance (all rows equal), for which similarity is undefined.
    case constantRepresentation(context: String)
    /// A value that is NaN or infinite.
    case nonFinite(context: String)
    /// An argument outside its valid range.
    case invalidArgument(String)
    /// Labels that cannot be used for a probe.
    case invalidLabels(String)

    public var description: String {
        switch self {
        case let .sampleCountMismatch(first, second, context):
            return "\(context): sample counts differ (\(first) and \(second) rows); both representations must hold the same inputs in the same order"
        case let .tooFewSamples(needed, got, context):
            return "\(context): needs at least \(needed) samples, got \(got)"
        case let .tooFewSamplesForCCA(samples, features, context):
            return "\(context): CCA needs more samples than features (\(samples) samples, \(features) features); every canonical correlation would be 1. Use SVCCA (which reduces dimensionality first) or more samples"
        case let .constantRepresentation(context):
            return "\(context): the representation is constant (zero variance in every feature), so it has no similarity, spectrum or components to measure"
        case let .nonFinite(context):
            return "\(context): contains NaN or infinite values"
        case let .invalidArgument(message):
            return message
        case let .invalidLabels(message):
            return message
        }
    }
}

extension AnalysisError {
    static func checkSameSamples(_ a: Int, _ b: Int, _ context: String) throws {
        if a != b { throw AnalysisError.sampleCountMismatch(first: a, second: b, context: context) }
    }
}
