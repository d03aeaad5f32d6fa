import Foundation

/// How reports write names and numbers into Markdown.
public enum Markdown {
    /// Escapes the characters that would break a table cell.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
    }

    /// A name as inline code that survives a table cell.
    public static func code(_ text: String) -> String {
        "`" + escape(text.replacingOccurrences(of: "`", with: "'")) + "`"
    }

    /// Three decimals unless told otherwise.
    public static func number(_ value: Double, decimals: Int = 3) -> String { NumberFormat.fixed(value, decimals: decimals) }

    /// A fraction as a percentage with as many decimals as it needs: `95 %`, `97.5 %`.
    public static func percent(_ fraction: Double) -> String {
        let value = fraction * 100
        for decimals in 0..<4 where abs(value - (value * pow(10, Double(decimals))).rounded() / pow(10, Double(decimals))) < 1e-9 {
            return NumberFormat.fixed(value, decimals: decimals) + " %"
        }
        return NumberFormat.fixed(value, decimals: 4) + " %"
    }
}
