// The C math functions Analysis uses, in one place.
#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

@inline(__always) func _exp(_ x: Double) -> Double { exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { log(x) }
@inline(__always) func _log1p(_ x: Double) -> Double { log1p(x) }
@inline(__always) func _acos(_ x: Double) -> Double { acos(x) }
