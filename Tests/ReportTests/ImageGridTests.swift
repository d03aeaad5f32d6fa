import Report
import Testing

@Suite struct ImageGridTests {
    @Test func imageGridHasOneRectPerPixel() throws {
        var generator = SplitMix(seed: 3)
        let rgb = ImageGrid.filters(
            weights: (0..<(64 * 3 * 7 * 7)).map { _ in generator.normal() }, outChannels: 64, inChannels: 3, height: 7, width: 7,
            title: "conv1 filters")
        let grey = ImageGrid.filters(
            weights: (0..<(8 * 5 * 5)).map { _ in generator.normal() }, outChannels: 8, inChannels: 1, height: 5, width: 5,
            normalization: .minMax, captions: (0..<8).map { "filter \($0)" })
        for (grid, pixels) in [(rgb, 64 * 49), (grey, 8 * 25)] {
            let svg = grid.svg()
            #expect(svg == grid.svg())
            let document = try #require(SVGDocument(svg))
            #expect(document.elements.filter { $0.name == "rect" && $0.ancestorClasses.first == "image" }.count == pixels)
            for text in document.all("text") {
                #expect(TextBox(text).isInside(width: document.width, height: document.height), "\(text.text) is clipped")
            }
        }
    }

    @Test func symmetricScalingPutsZeroAtMidGrey() throws {
        let image = ImageGrid.Image(width: 3, height: 1, pixels: [-2, 0, 1])
        let document = try #require(SVGDocument(ImageGrid(images: [image]).svg()))
        let fills = document.elements.filter { $0.name == "rect" && $0.ancestorClasses.first == "image" }.map { $0.attributes["fill"] ?? "" }
        #expect(fills == ["#000000", "#808080", "#bfbfbf"])
    }

    @Test func eachChannelGivesARowPerFilter() {
        let grid = ImageGrid.filters(weights: Array(repeating: 1, count: 2 * 4 * 9), outChannels: 2, inChannels: 4, height: 3, width: 3, display: .eachChannel)
        #expect(grid.images.count == 8)
        #expect(grid.columns == 4)
    }
}
