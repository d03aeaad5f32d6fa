import Testing
import LinearAlgebra

// Reductions, element-wise arithmetic and centring, against loops over the subscript.

private let shapes: [(Int, Int)] = [(1, 1), (1, 6), (6, 1), (5, 7), (33, 70), (0, 4), (4, 0), (0, 0)]

@Suite struct ElementwiseTests {
    // MARK: Arithmetic

    @Test(arguments: scalarTypes, shapes)
    func sumDifferenceAndScaleRoundOnce(type: any BLASScalar.Type, shape: (Int, Int)) {
        checkArithmetic(type, rows: shape.0, columns: shape.1)
    }

    private func checkArithmetic<S: BLASScalar>(_ type: S.Type, rows: Int, columns: Int) {
        let a: Matrix<S> = randomMatrix(rows: rows, columns: columns, seed: 21)
        let b: Matrix<S> = randomMatrix(rows: rows, columns: columns, seed: 22)
        let factor = S(-1.75)
        var scaled = a
        scaled.scale(by: factor)
        // One IEEE operation per element, and rounding a Double result to Float equals
        // rounding the Float operation (Double has more than 2p + 2 bits), so equality is exact.
        var sum = Matrix<S>(rows: rows, columns: columns), difference = sum, product = sum
        for i in 0..<rows {
            for j in 0..<columns {
                sum[i, j] = S(Double(a[i, j]) + Double(b[i, j]))
                difference[i, j] = S(Double(a[i, j]) - Double(b[i, j]))
                product[i, j] = S(Double(a[i, j]) * Double(factor))
            }
        }
        #expect(a + b == sum)
        #expect(a - b == difference)
        #expect(scaled == product)
    }

    // MARK: Reductions

    @Test(arguments: scalarTypes, shapes)
    func frobeniusNormIsRootOfSumOfSquares(type: any BLASScalar.Type, shape: (Int, Int)) {
        checkFrobeniusNorm(type, rows: shape.0, columns: shape.1)
    }

    private func checkFrobeniusNorm<S: BLASScalar>(_ type: S.Type, rows: Int, columns: Int) {
        let a: Matrix<S> = randomMatrix(rows: rows, columns: columns, seed: 23)
        let expected = a.storage.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        expectAgreement([a.frobeniusNorm], [expected], magnitude: [expected], roundings: rows * columns + 3)
    }

    /// Squares of these overflow (or underflow) in the scalar type itself, which the
    /// scaled algorithm exists to avoid; the reference squares in Double, where they fit.
    @Test(arguments: [Float(1e30), Float(1e-30), Float.leastNonzeroMagnitude * 8, Float.greatestFiniteMagnitude / 4])
    func frobeniusNormAvoidsOverflowAndUnderflow(magnitude: Float) {
        let a = Matrix<Float>([[magnitude, -2 * magnitude], [0, 2 * magnitude]])
        let expected = 3 * Double(magnitude)
        // Subnormal inputs carry few significant bits, so the bound is relative to one ulp of them.
        let slack = Double(magnitude) < Double(Float.leastNormalMagnitude) ? Double(magnitude) : 0
        let error = abs(Double(a.frobeniusNorm) - expected)
        #expect(error <= 8 * Double(Float.ulpOfOne) * expected + slack)
    }

    @Test func frobeniusNormOfInfinityIsInfinity() {
        #expect(Matrix<Double>([[1, -.infinity]]).frobeniusNorm == .infinity)
    }

    /// A NaN anywhere should make the norm NaN (it is how diverged activations show up), but
    /// the running maximum uses `Swift.max`, which never picks a NaN, so when every other
    /// element is zero the scale stays 0 and the norm comes back as 0.
    @Test(arguments: [[Double.nan], [0, .nan], [.nan, .nan]])
    func frobeniusNormPropagatesNaN(elements: [Double]) {
        let a = Matrix<Double>(rows: 1, columns: elements.count, columnMajor: elements)
        #expect(a.frobeniusNorm.isNaN)
    }

    @Test(arguments: scalarTypes, shapes)
    func traceSumsTheLeadingDiagonal(type: any BLASScalar.Type, shape: (Int, Int)) {
        checkTrace(type, rows: shape.0, columns: shape.1)
    }

    private func checkTrace<S: BLASScalar>(_ type: S.Type, rows: Int, columns: Int) {
        let a: Matrix<S> = randomMatrix(rows: rows, columns: columns, seed: 24)
        var expected = 0.0, magnitude = 0.0
        for i in 0..<min(rows, columns) {
            expected += Double(a[i, i])
            magnitude += abs(Double(a[i, i]))
        }
        expectAgreement([a.trace], [expected], magnitude: [magnitude], roundings: min(rows, columns) + 1)
    }

    @Test(arguments: scalarTypes, shapes)
    func rowSumsAndColumnMeansMatchLoops(type: any BLASScalar.Type, shape: (Int, Int)) {
        checkRowSumsAndColumnMeans(type, rows: shape.0, columns: shape.1)
    }

    private func checkRowSumsAndColumnMeans<S: BLASScalar>(_ type: S.Type, rows: Int, columns: Int) {
        let a: Matrix<S> = randomMatrix(rows: rows, columns: columns, seed: 25)
        var sums = [Double](repeating: 0, count: rows), sumMagnitudes = sums
        var means = [Double](repeating: 0, count: columns), meanMagnitudes = means
        for i in 0..<rows {
            for j in 0..<columns {
                let x = Double(a[i, j])
                sums[i] += x
                sumMagnitudes[i] += abs(x)
                means[j] += x
                meanMagnitudes[j] += abs(x)
            }
        }
        for j in 0..<columns where rows > 0 {
            means[j] /= Double(rows)
            meanMagnitudes[j] /= Double(rows)
        }
        expectAgreement(a.rowSums, sums, magnitude: sumMagnitudes, roundings: columns + 1, "row sums")
        expectAgreement(a.columnMeans, means, magnitude: meanMagnitudes, roundings: rows + 2, "column means")
    }

    // MARK: Centring

    @Test(arguments: scalarTypes, shapes)
    func centeringColumnsSubtractsEachMean(type: any BLASScalar.Type, shape: (Int, Int)) {
        checkCentering(type, rows: shape.0, columns: shape.1)
    }

    private func checkCentering<S: BLASScalar>(_ type: S.Type, rows: Int, columns: Int) {
        // An offset per column, so that a missing subtraction could not pass as a small error.
        var a: Matrix<S> = randomMatrix(rows: rows, columns: columns, seed: 26)
        for j in 0..<columns { for i in 0..<rows { a[i, j] += S(j + 1) } }
        let original = a
        var means = [Double](repeating: 0, count: columns), meanMagnitudes = means
        for j in 0..<columns where rows > 0 {
            for i in 0..<rows {
                means[j] += Double(a[i, j])
                meanMagnitudes[j] += abs(Double(a[i, j]))
            }
            means[j] /= Double(rows)
            meanMagnitudes[j] /= Double(rows)
        }
        var expected = Matrix<Double>(rows: rows, columns: columns), magnitude = expected
        for j in 0..<columns {
            for i in 0..<rows {
                expected[i, j] = Double(a[i, j]) - means[j]
                magnitude[i, j] = abs(Double(a[i, j])) + meanMagnitudes[j]
            }
        }

        let centred = a.centeringColumns()
        #expect(a == original, "centeringColumns leaves the receiver alone")
        // The mean's own summation error carries into every element of its column.
        expectAgreement(centred, expected, magnitude: magnitude, roundings: rows + 3, "centeringColumns")

        var inPlace = a
        let returned = inPlace.centerColumns()
        #expect(inPlace == centred)
        expectAgreement(returned, means, magnitude: meanMagnitudes, roundings: rows + 2, "returned means")

        var byHand = a
        byHand.subtractColumnMeans(returned)
        #expect(byHand == centred)
    }

    @Test(arguments: scalarTypes)
    func subtractColumnMeansUsesTheGivenMeans(type: any BLASScalar.Type) {
        checkSubtractGivenMeans(type)
    }

    private func checkSubtractGivenMeans<S: BLASScalar>(_ type: S.Type) {
        // Means of another (training) set: the result is not centred, just shifted.
        let a: Matrix<S> = randomMatrix(rows: 4, columns: 3, seed: 27)
        let means: [S] = [0.5, -2, 8]
        var shifted = a
        shifted.subtractColumnMeans(means)
        for j in 0..<3 {
            for i in 0..<4 { #expect(shifted[i, j] == S(Double(a[i, j]) - Double(means[j]))) }
        }
    }

    @Test(arguments: scalarTypes, [0, 1, 2, 5, 40])
    func doubleCenterIsHMH(type: any BLASScalar.Type, n: Int) {
        checkDoubleCenter(type, n: n)
    }

    private func checkDoubleCenter<S: BLASScalar>(_ type: S.Type, n: Int) {
        let m: Matrix<S> = randomMatrix(rows: n, columns: n, seed: UInt64(28 + n), scale: 3)
        var h = Matrix<Double>(rows: n, columns: n)
        for i in 0..<n { for j in 0..<n { h[i, j] = (i == j ? 1 : 0) - 1 / Double(max(n, 1)) } }
        let expected = naiveProduct(naiveProduct(h, m.doubles), h)
        // Every element of HMH mixes all of M, so the error scales with M's largest element.
        let largest = maxAbs(m.storage.map { Double($0) })
        var centred = m
        centred.doubleCenter()
        expectAgreement(centred, expected, magnitude: Matrix(rows: n, columns: n, repeating: 4 * largest),
                        roundings: 8, "\(n)×\(n)")
    }

    // MARK: Symmetrising

    @Test(arguments: scalarTypes, [0, 1, 2, 63, 65, 130])
    func symmetrizeFromUpperCopiesTheUpperTriangle(type: any BLASScalar.Type, n: Int) {
        checkSymmetrize(type, n: n)
    }

    private func checkSymmetrize<S: BLASScalar>(_ type: S.Type, n: Int) {
        let a: Matrix<S> = randomMatrix(rows: n, columns: n, seed: UInt64(29 + n))
        var expected = a
        for j in 0..<n { for i in (j + 1)..<max(j + 1, n) { expected[i, j] = a[j, i] } }
        var symmetric = a
        symmetric.symmetrizeFromUpper()
        #expect(symmetric == expected)
    }
}
