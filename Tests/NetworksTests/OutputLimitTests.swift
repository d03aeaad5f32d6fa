import Formats
import Foundation
import Testing
@testable import Networks

/// Operators whose shapes or shape inputs ask for an absurd output are refused, naming the
/// node, before anything of that size is allocated. Every size here is terabytes or more,
/// beyond any machine's memory budget, from inputs of a few bytes.
@Suite struct OutputLimitTests {
    static func run(_ opType: String, _ inputs: [Tensor], attributes: [String: Attribute] = [:]) throws -> [Tensor] {
        try ShapeOperatorTests.run(opType, inputs, attributes: attributes, name: "hostile")
    }

    static func int64(_ values: [Int]) -> Tensor { ShapeOperatorTests.int64(values) }

    /// Expects the node to fail with a message that says what the output would take.
    static func expectRefused(_ opType: String, _ inputs: [Tensor], attributes: [String: Attribute] = [:],
                              mentioning words: [String] = ["would take", "any tensor may have"],
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) {
            _ = try run(opType, inputs, attributes: attributes)
        } throws: { error in
            guard case let NetworkError.nodeFailed(file, node, op, problem) = error else { return false }
            let fits = file == "test.onnx" && node == "hostile" && op == opType && words.allSatisfy(problem.contains)
            if !fits { Issue.record("unexpected message: \(problem)", sourceLocation: sourceLocation) }
            return fits
        }
    }

    static let one = Tensor(shape: [1, 1], elements: [Float(1)])

    @Test func tileOfABillionRepeatsIsRefused() {
        Self.expectRefused("Tile", [Self.one, Self.int64([1_000_000, 1_000_000])], mentioning: ["3.6 TiB", "[1000000, 1000000]"])
    }

    @Test func tileWhoseRepeatsOverflowIsRefused() {
        let row = Tensor(shape: [1, 2], elements: [Float(1), 2])
        Self.expectRefused("Tile", [row, Self.int64([3, Int(Int64.max)])], mentioning: ["overflow"])
        Self.expectRefused("Tile", [Self.one, Self.int64([Int(Int64.max), 3])])
    }

    @Test func emptyTileWithHugeRepeatsAllocatesNothing() throws {
        let empty = Tensor(shape: [0, 1], elements: [Float]())
        let result = try Self.run("Tile", [empty, Self.int64([5, 1 << 30])])
        #expect(result[0].shape == [0, 1 << 30])
        #expect(result[0].count == 0)
    }

    @Test func expandAndBroadcastingArithmeticAreRefused() {
        Self.expectRefused("Expand", [Self.one, Self.int64([1 << 20, 1 << 20])])
        let column = Tensor(shape: [1 << 20, 1], elements: [Float](repeating: 1, count: 1 << 20))
        let row = Tensor(shape: [1, 1 << 20], elements: [Float](repeating: 1, count: 1 << 20))
        Self.expectRefused("Add", [column, row])
        Self.expectRefused("MatMul", [column, row])
    }

    @Test func shapeValuedOperatorsAreRefused() {
        Self.expectRefused("ConstantOfShape", [Self.int64([1 << 20, 1 << 20])])
        Self.expectRefused("Range", [Self.int64([0]).reshaped([]), Self.int64([1 << 40]).reshaped([]), Self.int64([1]).reshaped([])])
        Self.expectRefused("Pad", [Self.one, Self.int64([0, 0, 1 << 20, 1 << 20])])
        Self.expectRefused("Pad", [Self.one, Self.int64([Int(Int64.min), 0, 0, 0])], mentioning: ["largest dimension"])
        Self.expectRefused("OneHot", [Self.int64([0, 1]), Tensor(shape: [1], elements: [Float(1e15)]),
                                      Tensor(shape: [2], elements: [Float(0), 1])])
        let image = Tensor(shape: [1, 1, 2, 2], elements: [Float](repeating: 1, count: 4))
        let scales = Tensor(shape: [4], elements: [Float(1), 1, 1e7, 1e7])
        Self.expectRefused("Resize", [image, Tensor(shape: [0], elements: [Float]()), scales])
        let absurd = Tensor(shape: [4], elements: [Float(1), 1, 1e30, 1e30])
        Self.expectRefused("Resize", [image, Tensor(shape: [0], elements: [Float]()), absurd], mentioning: ["largest dimension"])
    }

    @Test func windowsWithAbsurdPaddingAreRefused() {
        let image = Tensor(shape: [1, 1, 2, 2], elements: [Float](repeating: 1, count: 4))
        let weight = Tensor(shape: [1, 1, 1, 1], elements: [Float(1)])
        Self.expectRefused("Conv", [image, weight], attributes: ["pads": .ints([1 << 22, 1 << 22, 1 << 22, 1 << 22])])
        Self.expectRefused("MaxPool", [image], attributes: ["kernel_shape": .ints([1, 1]), "pads": .ints([1 << 22, 1 << 22, 1 << 22, 1 << 22])])
        Self.expectRefused("ConvTranspose", [image, weight], attributes: ["output_shape": .ints([1 << 30, 1 << 30])])
    }

    @Test func windowStepsBeyondTheLargestAreRefusedAtLoadTime() {
        #expect {
            _ = try Self.run("Conv", [Self.one.reshaped([1, 1, 1, 1]), Self.one.reshaped([1, 1, 1, 1])],
                             attributes: ["dilations": .ints([Int(Int64.max), 1])])
        } throws: { error in
            guard case let NetworkError.nodeFailed(_, _, _, problem) = error else { return false }
            return problem.contains("dilations") && problem.contains("the most a window step")
        }
    }

    @Test func theMessageSaysWhatTheOutputWouldTakeAndTheLimit() throws {
        #expect {
            _ = try Self.run("ConstantOfShape", [Self.int64([1 << 20, 1 << 20])])
        } throws: { error in
            guard case let NetworkError.nodeFailed(_, _, _, problem) = error else { return false }
            // 2⁴⁰ float32 elements: 4 TiB, beyond any shape, so no limit to raise.
            return problem.contains("4 TiB") && problem.contains("more than the \(Tensor.maximumCount) elements any tensor may have")
                && !problem.contains("REPPROBE_LIMITS")
        }
        // 2³⁴ float64 elements, as many as a shape may have: 128 GiB, beyond the tensor limit
        // of any machine with less than 170 GiB of memory, which the message says how to raise.
        #expect {
            _ = try Tensor.checkedCount([1 << 17, 1 << 17], elementBytes: 8)
        } throws: { error in
            let message = "\(error)"
            return message.contains("would take 128 GiB, more than one tensor may take (\(ResourceLimit.tensor.readable); "
                                    + "REPPROBE_LIMITS=tensor=128G raises it)")
        }
    }

    @Test func aLowerLimitRefusesWhatTheDefaultAllows() throws {
        let checked = try Tensor.checkedCount([1000, 1000], elementBytes: 4)
        #expect(checked == 1_000_000)
        #expect(throws: KernelError.self) { try Tensor.checkedCount([1 << 20, 1 << 20], elementBytes: 4) }
        #expect(throws: KernelError.self) { try Tensor.checkedCount([0, Tensor.maximumCount + 1]) }
        #expect(try Tensor.checkedCount([0, 1 << 30]) == 0)
    }
}
