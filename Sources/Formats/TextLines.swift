/// Lines of a text file, split at every line feed (U+000A) with one carriage return before it
/// dropped, whatever Swift's grapheme clusters make of `\r\n`: `"a\r\nb\n"` gives
/// `["a", "b", ""]`.
public enum TextLines {
    public static func split(_ text: String) -> [String] {
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { scalars in
            var line = String.UnicodeScalarView(scalars)
            if line.last == "\r" { line.removeLast() }
            return String(line)
        }
    }
}
