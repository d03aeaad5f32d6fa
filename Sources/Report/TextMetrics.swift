/// Estimates of text size without a font engine, and shortening of long labels.
///
/// Layout uses an average glyph width of 0.6 × the font size; that is a little wide for
/// lower-case DejaVu Sans, so estimates err on the side of leaving room.
public enum TextMetrics {
    /// Average advance of one character, in multiples of the font size.
    public static let characterWidth = 0.6

    /// Estimated width of `text` set at `fontSize`.
    public static func width(_ text: String, fontSize: Double) -> Double {
        Double(text.count) * characterWidth * fontSize
    }

    /// The widest estimated width among `texts` (0 for none).
    public static func maximumWidth(_ texts: [String], fontSize: Double) -> Double {
        texts.map { width($0, fontSize: fontSize) }.max() ?? 0
    }

    /// `text` cut in the middle with "…" when it has more than `maxCharacters` characters.
    ///
    /// The tail keeps a little more than the head, since the end of a module path
    /// (`…conv2`, `…Softmax_output_0`) usually says most.
    public static func shortened(_ text: String, maxCharacters: Int) -> String {
        let limit = max(maxCharacters, 3)
        guard text.count > limit else { return text }
        let kept = limit - 1
        let head = kept * 2 / 5
        let tail = kept - head
        return String(text.prefix(head)) + "…" + String(text.suffix(tail))
    }

    /// Each label shortened to at most `maxCharacters`, allowing longer labels when cutting
    /// would make two different labels look the same.
    public static func shortened(_ labels: [String], maxCharacters: Int) -> [String] {
        let longest = labels.map(\.count).max() ?? 0
        var limit = maxCharacters
        while true {
            let short = labels.map { shortened($0, maxCharacters: limit) }
            if limit >= longest || Set(short).count == Set(labels).count { return short }
            limit += 4
        }
    }
}
