/// A grid of small images, such as the filters of a network's first convolution, drawn
/// pixel by pixel as crisp squares with a gap between images.
public struct ImageGrid: Sendable {
    /// One image of `channels` planes (1: grey, 3: red, green, blue).
    public struct Image: Sendable {
        public var width: Int
        public var height: Int
        public var channels: Int
        /// Plane after plane, each row-major: `pixels[(c * height + row) * width + column]`.
        /// Missing entries count as 0.
        public var pixels: [Double]
        public var caption: String?

        public init(width: Int, height: Int, channels: Int = 1, pixels: [Double], caption: String? = nil) {
            self.width = max(width, 0)
            self.height = max(height, 0)
            self.channels = channels == 3 ? 3 : 1
            self.pixels = pixels
            self.caption = caption
        }

        func value(channel: Int, row: Int, column: Int) -> Double {
            let index = (channel * height + row) * width + column
            return pixels.indices.contains(index) && pixels[index].isFinite ? pixels[index] : 0
        }
    }

    /// How values become brightness, per image.
    public enum Normalization: Sendable {
        /// ±(largest magnitude) maps to black and white, so zero is mid grey and signs compare.
        case symmetric
        /// The image's own minimum and maximum map to black and white.
        case minMax
    }

    /// How the input channels of convolution filters are shown.
    public enum ChannelDisplay: Sendable {
        /// Colour for three input channels, otherwise the mean over channels.
        case automatic
        /// One grey image per input channel, a row per filter.
        case eachChannel
        /// One grey image of the mean over input channels.
        case mean
    }

    public var title: String?
    public var images: [Image]
    /// Images per row; `nil` chooses up to 8 in one row, else about a square.
    public var columns: Int?
    public var normalization: Normalization
    /// Side of one image pixel; `nil` makes images about 48 px wide.
    public var pixelSize: Int?
    public var gap: Double
    /// A line under the title saying how values were scaled.
    public var showsNormalizationNote: Bool

    public init(
        title: String? = nil, images: [Image], columns: Int? = nil, normalization: Normalization = .symmetric,
        pixelSize: Int? = nil, gap: Double = 8, showsNormalizationNote: Bool = true
    ) {
        self.title = title
        self.images = images
        self.columns = columns
        self.normalization = normalization
        self.pixelSize = pixelSize
        self.gap = gap
        self.showsNormalizationNote = showsNormalizationNote
    }

    /// The filters of a convolution with weights shaped `[outChannels, inChannels, height, width]`
    /// (C order, as PyTorch and ONNX store them).
    public static func filters(
        weights: [Double], outChannels: Int, inChannels: Int, height: Int, width: Int, display: ChannelDisplay = .automatic,
        title: String? = nil, normalization: Normalization = .symmetric, captions: [String]? = nil
    ) -> ImageGrid {
        let plane = height * width
        func value(_ o: Int, _ c: Int, _ p: Int) -> Double {
            let index = (o * inChannels + c) * plane + p
            return weights.indices.contains(index) ? weights[index] : 0
        }
        var images: [Image] = []
        var columns: Int?
        for o in 0..<max(outChannels, 0) {
            let caption = captions.flatMap { $0.indices.contains(o) ? $0[o] : nil }
            switch display {
            case .automatic where inChannels == 3:
                let pixels = (0..<3).flatMap { c in (0..<plane).map { value(o, c, $0) } }
                images.append(Image(width: width, height: height, channels: 3, pixels: pixels, caption: caption))
            case .eachChannel:
                columns = inChannels
                for c in 0..<inChannels {
                    let pixels = (0..<plane).map { value(o, c, $0) }
                    images.append(Image(width: width, height: height, pixels: pixels, caption: c == 0 ? caption : nil))
                }
            case .automatic, .mean:
                let pixels = (0..<plane).map { p in
                    (0..<inChannels).map { value(o, $0, p) }.reduce(0, +) / Double(max(inChannels, 1))
                }
                images.append(Image(width: width, height: height, pixels: pixels, caption: caption))
            }
        }
        return ImageGrid(title: title, images: images, columns: columns, normalization: normalization)
    }

    // MARK: - Layout

    var resolvedColumns: Int {
        if let columns, columns > 0 { return columns }
        let n = images.count
        return n <= 8 ? max(n, 1) : Int(Double(n).squareRoot().rounded(.up))
    }

    var resolvedPixelSize: Double {
        if let pixelSize, pixelSize > 0 { return Double(pixelSize) }
        let side = images.map { max($0.width, $0.height) }.max() ?? 1
        return max(1, (48 / Double(max(side, 1))).rounded())
    }

    /// Brightness in 0…1 of every value of `image`, by the chosen normalisation.
    func scaled(_ image: Image) -> (Double) -> Double {
        var low = Double.infinity, high = -Double.infinity
        for c in 0..<image.channels {
            for r in 0..<image.height {
                for col in 0..<image.width {
                    let v = image.value(channel: c, row: r, column: col)
                    low = min(low, v)
                    high = max(high, v)
                }
            }
        }
        switch normalization {
        case .symmetric:
            let m = max(abs(low), abs(high))
            return m > 0 && m.isFinite ? { 0.5 + 0.5 * $0 / m } : { _ in 0.5 }
        case .minMax:
            return high > low ? { ($0 - low) / (high - low) } : { _ in 0.5 }
        }
    }

    // MARK: - Drawing

    public func svg() -> String {
        SVGWriter.fitted(padding: 12) { draw(into: &$0) }.document(title: title)
    }

    private func draw(into svg: inout SVGWriter) {
        let pixel = resolvedPixelSize, columns = resolvedColumns
        let cellWidth = Double(images.map(\.width).max() ?? 0) * pixel
        let cellHeight = Double(images.map(\.height).max() ?? 0) * pixel
        let hasCaptions = images.contains { $0.caption != nil }
        let captionSize = 10.0
        let rowHeight = cellHeight + gap + (hasCaptions ? captionSize + 4 : 0)
        let maxCaption = max(3, Int((cellWidth + gap - 2) / (TextMetrics.characterWidth * captionSize)))

        for (k, image) in images.enumerated() {
            let left = Double(k % columns) * (cellWidth + gap)
            let top = Double(k / columns) * rowHeight
            let brightness = scaled(image)
            svg.open("g", [("class", "image"), ("shape-rendering", "crispEdges")])
            for r in 0..<image.height {
                for c in 0..<image.width {
                    let color: RGBColor
                    if image.channels == 3 {
                        color = RGBColor(
                            red: brightness(image.value(channel: 0, row: r, column: c)),
                            green: brightness(image.value(channel: 1, row: r, column: c)),
                            blue: brightness(image.value(channel: 2, row: r, column: c)))
                    } else {
                        let g = brightness(image.value(channel: 0, row: r, column: c))
                        color = RGBColor(red: g, green: g, blue: g)
                    }
                    svg.rect(x: left + Double(c) * pixel, y: top + Double(r) * pixel, width: pixel, height: pixel, fill: color.hex)
                }
            }
            svg.close()
            svg.rect(
                x: left - 0.5, y: top - 0.5, width: Double(image.width) * pixel + 1, height: Double(image.height) * pixel + 1,
                fill: "none", stroke: "#c8c8c8", strokeWidth: 1, extra: [("class", "frame")])
            if let caption = image.caption {
                let short = TextMetrics.shortened(caption, maxCharacters: maxCaption)
                svg.text(
                    short, x: left + Double(image.width) * pixel / 2, y: top + cellHeight + 3 + 0.8 * captionSize,
                    size: captionSize, anchor: .middle, className: "caption", tooltip: short == caption ? nil : caption)
            }
        }

        var titleY = -10.0
        if showsNormalizationNote {
            let note = normalization == .symmetric
                ? "each image scaled to ± its largest magnitude; mid grey = 0"
                : "each image scaled from its minimum (black) to its maximum (white)"
            svg.text(note, x: 0, y: titleY, size: 11, fill: "#666666", className: "note")
            titleY -= 20
        }
        if let title {
            svg.text(title, x: 0, y: titleY, size: 15, bold: true, className: "title")
        }
    }
}
