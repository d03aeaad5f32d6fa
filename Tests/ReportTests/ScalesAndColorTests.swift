import Report
import Testing

@Suite struct ScalesAndColorTests {
    @Test func viridisRunsFromDarkPurpleToYellow() {
        #expect(ColorMap.viridis.color(at: 0).hex == "#440154")
        #expect(ColorMap.viridis.color(at: 1).hex == "#fde725")
        #expect(ColorMap.viridis.color(at: -3).hex == "#440154")
        #expect(ColorMap.viridis.color(at: .nan).hex == "#440154")
        // Lightness rises along the map.
        let luminances = stride(from: 0.0, through: 1, by: 0.05).map { ColorMap.viridis.color(at: $0).luminance }
        #expect(zip(luminances, luminances.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test func textOnCellsContrasts() {
        #expect(ColorMap.viridis.color(at: 0).contrastingText == .white)
        #expect(ColorMap.viridis.color(at: 1).contrastingText == .black)
    }

    @Test func paletteColoursAreDistinct() {
        let colors = (0..<20).map { Palette.color($0).hex }
        #expect(Set(colors).count == 20)
    }

    @Test func linearTicksAreMultiplesOfOneTwoOrFive() {
        func formatted(_ lower: Double, _ upper: Double, decimals: Int) -> [String] {
            NiceTicks.linear(lower: lower, upper: upper).map { NumberFormat.fixed($0, decimals: decimals) }
        }
        #expect(formatted(0, 1, decimals: 1) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(NiceTicks.linear(lower: 0, upper: 1).first == 0 && NiceTicks.linear(lower: 0, upper: 1).last == 1)
        #expect(NiceTicks.linear(lower: -3, upper: 7) == [-2, 0, 2, 4, 6])
        #expect(formatted(0.5, 0.56, decimals: 2) == ["0.50", "0.52", "0.54", "0.56"])
        #expect(NiceTicks.linear(lower: -1e-12, upper: 10).first == 0)
        #expect(NiceTicks.step(span: 1000, targetCount: 5) == 200)
        #expect(NiceTicks.step(span: 2.5, targetCount: 5) == 0.5)
        #expect(NiceTicks.domain(lower: 0.13, upper: 0.91) == 0.0...1.0)
        #expect(NiceTicks.domain(lower: 1, upper: 50) == 0.0...50.0)
        #expect(NiceTicks.decimals(forStep: 0.2) == 1)
        #expect(NiceTicks.decimals(forStep: 1) == 0)
        #expect(NiceTicks.decimals(forStep: 0.05) == 2)
    }

    @Test func decadesCoverTheRange() {
        #expect(NiceTicks.decades(lower: 0.003, upper: 0.4) == -3...0)
        #expect(NiceTicks.decades(lower: 1, upper: 100) == 0...2)
        #expect(NiceTicks.powerOfTenLabel(-3) == "10⁻³")
        #expect(NiceTicks.powerOfTenLabel(12) == "10¹²")
    }
}
