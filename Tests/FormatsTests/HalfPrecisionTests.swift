import Formats
import Testing

@Suite("Half-precision conversions")
struct HalfPrecisionTests {
    #if !(os(macOS) && arch(x86_64))
    @Test("float16 → Float agrees with Swift's Float16 on every bit pattern")
    func float16WideningIsExact() {
        let mismatches = (0...UInt16.max).filter { bits in
            let ours = HalfPrecision.float(fromFloat16: bits)
            let reference = Float(Float16(bitPattern: bits))
            return reference.isNaN ? !ours.isNaN : ours.bitPattern != reference.bitPattern
        }
        #expect(mismatches.count == 0, "first mismatching bit patterns: \(mismatches.prefix(5))")
    }

    @Test("Float → float16 rounds like Swift's Float16, including exact midpoints")
    func float16NarrowingRoundsToNearestEven() {
        var samples: [Float] = []
        // Every value halfway between two adjacent finite halves, and a hair either side.
        for bits in UInt16(0)..<0x7BFF {
            let low = HalfPrecision.float(fromFloat16: bits)
            let high = HalfPrecision.float(fromFloat16: bits + 1)
            let middle = (low + high) / 2
            samples += [middle, middle.nextDown, middle.nextUp, -middle]
        }
        // Pseudo-random bit patterns across the whole Float range.
        var state: UInt32 = 12345
        for _ in 0..<100_000 {
            state = state &* 1_664_525 &+ 1_013_904_223
            samples.append(Float(bitPattern: state))
        }
        let mismatches = samples.filter { !$0.isNaN && HalfPrecision.float16Bits(from: $0) != Float16($0).bitPattern }
        #expect(mismatches.count == 0, "first mismatching values: \(mismatches.prefix(5))")
    }
    #endif

    @Test(
        "float16 edge values",
        arguments: [
            (Float(0), UInt16(0x0000)), (-0.0, 0x8000), (1, 0x3C00), (-2, 0xC000),
            (65504, 0x7BFF), (65519.996, 0x7BFF), (65520, 0x7C00), (1e10, 0x7C00), (-.infinity, 0xFC00),
            (0x1p-14, 0x0400), (0x1p-24, 0x0001), (0x1p-25, 0x0000), (0x1.8p-25, 0x0001), (0x1.8p-24, 0x0002),
            (1e-10, 0x0000), (-1e-10, 0x8000),
        ] as [(Float, UInt16)])
    func float16Edges(value: Float, bits: UInt16) {
        #expect(HalfPrecision.float16Bits(from: value) == bits)
    }

    @Test("float16 keeps NaN quiet and infinities exact")
    func float16Specials() {
        #expect(HalfPrecision.float16Bits(from: .nan) & 0x7E00 == 0x7E00)
        #expect(HalfPrecision.float(fromFloat16: 0x7E00).isNaN)
        #expect(HalfPrecision.float(fromFloat16: 0x7C01).isNaN)  // signalling NaN stays NaN
        #expect(HalfPrecision.float(fromFloat16: 0x7C00) == .infinity)
        #expect(HalfPrecision.float(fromFloat16: 0x0001) == 0x1p-24)
        #expect(HalfPrecision.float(fromFloat16: 0x03FF) == 0x1.ff8p-15)
    }

    @Test(
        "bfloat16 edge values",
        arguments: [
            (Float(1), UInt16(0x3F80)), (-2.5, 0xC020), (0, 0x0000), (-0.0, 0x8000),
            (Float(bitPattern: 0x3F80_8000), 0x3F80),  // tie, rounds to even (down)
            (Float(bitPattern: 0x3F81_8000), 0x3F82),  // tie, rounds to even (up)
            (Float(bitPattern: 0x3F80_8001), 0x3F81),  // above the tie
            (.greatestFiniteMagnitude, 0x7F80),  // rounds past the largest bfloat16
            (.infinity, 0x7F80), (-.infinity, 0xFF80),
            (Float(bitPattern: 0x0001_0000), 0x0001),  // subnormal
        ] as [(Float, UInt16)])
    func bfloat16Edges(value: Float, bits: UInt16) {
        #expect(HalfPrecision.bfloat16Bits(from: value) == bits)
    }

    @Test("bfloat16 round-trips every non-NaN bit pattern and keeps NaN NaN")
    func bfloat16RoundTrip() {
        let mismatches = (0...UInt16.max).filter { bits in
            let value = HalfPrecision.float(fromBFloat16: bits)
            let back = HalfPrecision.bfloat16Bits(from: value)
            return value.isNaN ? !HalfPrecision.float(fromBFloat16: back).isNaN : back != bits
        }
        #expect(mismatches.count == 0, "first mismatching bit patterns: \(mismatches.prefix(5))")
        // A NaN whose payload lives only in the low 16 bits must not become infinity.
        #expect(HalfPrecision.float(fromBFloat16: HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x7F80_0001))).isNaN)
    }
}
