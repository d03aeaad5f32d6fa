/// A failure reported by a LAPACK routine through a positive `info`.
///
/// Negative `info` values mean an argument was wrong, which is a bug in this module and
/// stops the program with a precondition failure instead.
public enum LinearAlgebraError: Error, Equatable, CustomStringConvertible {
    /// An iterative routine (eigen-solver, SVD) did not converge.
    case didNotConverge(routine: String, info: Int)
    /// A Cholesky factorisation met a leading minor that is not positive definite.
    case notPositiveDefinite(routine: String, minor: Int)
    /// An LU factorisation met an exactly zero pivot.
    case singular(routine: String, pivot: Int)

    public var description: String {
        switch self {
        case let .didNotConverge(routine, info):
            return "\(routine) did not converge (info = \(info))"
        case let .notPositiveDefinite(routine, minor):
            return "\(routine): the matrix is not positive definite (leading minor \(minor))"
        case let .singular(routine, pivot):
            return "\(routine): the matrix is singular (zero pivot at \(pivot))"
        }
    }
}
