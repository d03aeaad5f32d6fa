import Testing

@testable import Notebooks

/// Outputs compared with numbers within a tolerance and all other text exactly.
@Suite struct OutputComparisonTests {
    func difference(_ expected: String, _ actual: String, tolerance: Double = 1e-3) -> String? {
        OutputComparison.difference(expected, actual, tolerance: tolerance)
    }

    @Test func numbersAreComparedWithinTheTolerance() {
        #expect(difference("CKA 0.9981 [0.997, 0.998]", "CKA 0.9982 [0.997, 0.998]") == nil)
        #expect(difference("CKA 0.99", "CKA 0.89") != nil)
        #expect(difference("layer1 → stem.1", "layer1 → stem.2") != nil)
        #expect(difference("a b", "a b c") != nil)
        #expect(difference("-0.007 e-5 1e-5", "-0.007 e-5 1.0e-5", tolerance: 0) == nil)
    }

    @Test func numberWithinTheRelativeToleranceAgrees() {
        #expect(difference("loss 1000", "loss 1000.9") == nil)
    }

    @Test func numberOutsideTheToleranceIsNamedWithItsPosition() {
        #expect(difference("loss 1000", "loss 1001.1") == "number 2: 1000.0 became 1001.1")
    }

    @Test func toleranceIsRelativeToTheLargerMagnitude() {
        #expect(difference("1.0", "1.001", tolerance: 1e-3) == nil)
        #expect(difference("1.001", "1.0", tolerance: 1e-3) == nil)
    }

    @Test func tinyDifferencesPassEvenWithZeroTolerance() {
        #expect(difference("0", "1e-10", tolerance: 0) == nil)
        #expect(difference("0", "1e-8", tolerance: 0) != nil)
    }

    @Test func aChangedSignIsADifference() {
        #expect(difference("r = 0.5", "r = -0.5") == "number 3: 0.5 became -0.5")
    }

    @Test func aMinusAfterTextStartsANumber() {
        #expect(OutputComparison.tokens("x-1") == [.text("x"), .number(-1)])
        #expect(difference("x-1", "x-2") != nil)
    }

    @Test func exponentsAreReadAsPartOfTheNumber() {
        #expect(difference("2.5E-3", "0.0025", tolerance: 0) == nil)
        #expect(difference("1e+3", "1000", tolerance: 0) == nil)
        #expect(OutputComparison.tokens("3e") == [.number(3), .text("e")])
    }

    @Test func punctuationIsSplitFromNumbers() {
        #expect(OutputComparison.tokens("[0.997,") == [.text("["), .number(0.997), .text(",")])
    }

    @Test func changedTextIsQuoted() {
        #expect(difference("model A wins", "model B wins") == "'A' became 'B'")
    }

    @Test func aNumberThatBecameTextIsADifference() {
        #expect(difference("1 apple", "one apple") == "'1.0' became 'one'")
    }

    @Test func extraOrMissingTokensAreCounted() {
        #expect(difference("a b", "a b c") == "2 tokens became 3")
        #expect(difference("a b 3", "a b") == "3 tokens became 2")
    }

    @Test func whitespaceOnlySeparates() {
        #expect(difference("a  b\n\tc\n", "a b c") == nil)
    }
}
