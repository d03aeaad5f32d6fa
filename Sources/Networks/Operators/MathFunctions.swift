/// Math functions of one element: `Abs`, `Neg` and `Sign` for every numeric type, the rest
/// for `float32` and `float64`.
enum MathOperators {
    static let factories: [String: OperatorFactory] = [
        "Abs": numeric(Absolute()),
        "Neg": numeric(Negate()),
        "Sign": numeric(Sign()),
        "Sqrt": floating(SquareRoot()),
        "Reciprocal": floating(Reciprocal()),
        "Exp": floating(Exp()),
        "Log": floating(Log()),
        "Erf": floating(Erf()),
        "Floor": floating(Floor()),
        "Ceil": floating(Ceil()),
        "Round": floating(Round()),
        "Tanh": floating(Tanh()),
        "Sin": floating(Sin()),
        "Cos": floating(Cos()),
        "Tan": floating(Tan()),
        "Asin": floating(Asin()),
        "Acos": floating(Acos()),
        "Atan": floating(Atan()),
        "Sinh": floating(Sinh()),
        "Cosh": floating(Cosh()),
        "Asinh": floating(Asinh()),
        "Acosh": floating(Acosh()),
        "Atanh": floating(Atanh()),
        "IsNaN": { _ in specialised(FloatingTest(predicate: IsNaN())) },
        "IsInf": { context in
            specialised(FloatingTest(predicate: IsInf(
                negative: try context.int("detect_negative", default: 1) != 0,
                positive: try context.int("detect_positive", default: 1) != 0)))
        },
    ]

    static func floating<F: FloatingFunction>(_ function: F) -> OperatorFactory {
        { _ in specialised(FloatingMap(function: function)) }
    }

    static func numeric<F: NumericFunction>(_ function: F) -> OperatorFactory {
        { _ in specialised(NumericMap(function: function)) }
    }

    struct Absolute: NumericFunction {
        @inline(__always) func callAsFunction<T: NumericElement>(_ x: T) -> T { T.absolute(x) }
    }

    struct Negate: NumericFunction {
        @inline(__always) func callAsFunction<T: NumericElement>(_ x: T) -> T { T.negate(x) }
    }

    /// −1, 0 or 1 (NaN stays NaN).
    struct Sign: NumericFunction {
        @inline(__always) func callAsFunction<T: NumericElement>(_ x: T) -> T {
            x > .zero ? .one : x < .zero ? T.negate(.one) : x
        }
    }

    struct SquareRoot: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { x.squareRoot() }
    }

    struct Reciprocal: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { 1 / x }
    }

    struct Exp: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.exp(x) }

        func floats(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
            VectorMath.exp(out, x, count)
        }
    }

    struct Log: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.log(x) }
    }

    struct Erf: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.erf(x) }

        func floats(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
            VectorMath.erf(out, x, count)
        }
    }

    struct Floor: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { x.rounded(.down) }
    }

    struct Ceil: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { x.rounded(.up) }
    }

    /// Halves round to even, as ONNX specifies.
    struct Round: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { x.rounded(.toNearestOrEven) }
    }

    struct Tanh: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.tanh(x) }
    }

    struct Sin: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.sin(x) }
    }

    struct Cos: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.cos(x) }
    }

    struct Tan: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.tan(x) }
    }

    struct Asin: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.asin(x) }
    }

    struct Acos: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.acos(x) }
    }

    struct Atan: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.atan(x) }
    }

    struct Sinh: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.sinh(x) }
    }

    struct Cosh: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.cosh(x) }
    }

    struct Asinh: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.asinh(x) }
    }

    struct Acosh: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.acosh(x) }
    }

    struct Atanh: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { T.atanh(x) }
    }

    struct IsNaN: FloatingPredicate {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> Bool { x.isNaN }
    }

    struct IsInf: FloatingPredicate {
        let negative: Bool
        let positive: Bool
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> Bool {
            x.isInfinite && (x < 0 ? negative : positive)
        }
    }
}
