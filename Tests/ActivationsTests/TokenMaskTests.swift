import Testing
@testable import Activations

/// Token layers `[samples, tokens, features]` of padded text reduced with the attention mask:
/// padding never counts.
@Suite struct TokenMaskTests {
    // Two samples, three tokens, two features; the first sample's last token is padding
    // with large values that would show if it counted.
    let values: [Float] = [1, 2, 3, 4, 100, 200,
                           5, 6, 7, 8, 9, 10]
    let shape = [2, 3, 2]
    let mask = [true, true, false, true, true, true]

    func reduce(_ reduction: Reduction, mask: [Bool]?) throws -> [Float] {
        try Reducer(reduction, layer: "l", source: "test").reduce(values, shape: shape, tokenMask: mask).rows
    }

    @Test func poolsAndPicksSeeRealTokensOnly() throws {
        #expect(try reduce(.mean, mask: mask) == [2, 3, 7, 8])
        #expect(try reduce(.max, mask: mask) == [3, 4, 9, 10])
        #expect(try reduce(.first, mask: mask) == [1, 2, 5, 6])
        #expect(try reduce(.last, mask: mask) == [3, 4, 9, 10])
        #expect(try reduce(.center, mask: mask) == [1, 2, 7, 8])
        #expect(try reduce(.flatten, mask: mask) == [1, 2, 3, 4, 0, 0, 5, 6, 7, 8, 9, 10])
        #expect(try reduce(.subsample(stride: 2), mask: mask) == [1, 2, 0, 0, 5, 6, 9, 10])
    }

    @Test func withoutAMaskEveryTokenCounts() throws {
        #expect(try reduce(.mean, mask: nil) == [Float(104) / 3, Float(206) / 3, 7, 8])
        #expect(try reduce(.first, mask: nil) == [1, 2, 5, 6])
        #expect(try reduce(.last, mask: nil) == [100, 200, 9, 10])
    }

    @Test func projectionOfPaddedTokensEqualsProjectionOfZeros() throws {
        var zeroed = values
        zeroed[4] = 0; zeroed[5] = 0
        let masked = try reduce(.project(dimensions: 3, seed: 7), mask: mask)
        let plain = try Reducer(.project(dimensions: 3, seed: 7), layer: "l", source: "test").reduce(zeroed, shape: shape).rows
        #expect(masked == plain)
    }

    @Test func aSampleOfPaddingOnlyOrAMaskOfTheWrongSizeIsAnError() {
        #expect(throws: ActivationError.self) { try reduce(.mean, mask: [false, false, false, true, true, true]) }
        #expect(throws: ActivationError.self) { try reduce(.last, mask: [false, false, false, true, true, true]) }
        #expect(throws: ActivationError.self) { try reduce(.mean, mask: [true, true]) }
        // Flattening has nothing to divide: a sample of padding is all zeros.
        #expect((try? reduce(.flatten, mask: [false, false, false, true, true, true]))?.prefix(6) == [0, 0, 0, 0, 0, 0])
    }

    @Test func firstAndLastParseAndRefuseImageLayers() throws {
        #expect(Reduction(parsing: "cls") == .first)
        #expect(Reduction(parsing: "first") == .first)
        #expect(Reduction(parsing: "last") == .last)
        #expect(Reduction(parsing: "last:2") == nil)
        #expect(throws: ActivationError.self) {
            try Reducer(.last, layer: "conv", source: "test").reduce([Float](repeating: 1, count: 8), shape: [1, 2, 2, 2])
        }
    }
}
