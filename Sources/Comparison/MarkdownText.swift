import Report

/// How reports write numbers and names into Markdown.
enum MarkdownText {
    /// Three decimals.
    static func number(_ value: Double, decimals: Int = 3) -> String { NumberFormat.fixed(value, decimals: decimals) }

    /// A name as inline code that survives a table cell.
    static func code(_ text: String) -> String {
        "`" + text.replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "|", with: "\\|") + "`"
    }
}
