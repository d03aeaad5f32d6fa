import Foundation
import LinearAlgebra

/// A labelled matrix of numbers laid out for a terminal or for Markdown.
///
/// Rows and columns are named (layer names, typically); values are printed with a fixed
/// number of decimals so columns line up and output is byte-stable.
public struct LabelledMatrix: Sendable {
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// `rowLabels.count` rows of `columnLabels.count` values.
    public var values: [[Double]]
    /// A short name for the corner cell (e.g. "A \\ B").
    public var corner: String

    public init(rowLabels: [String], columnLabels: [String], values: [[Double]], corner: String = "") {
        precondition(values.count == rowLabels.count && values.allSatisfy { $0.count == columnLabels.count }, "labels do not fit the values")
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.values = values
        self.corner = corner
    }

    /// What building and printing one value of a table takes, in bytes: its number, its text
    /// or JSON and the encoder's own objects (JSON of a 2 000 × 2 000 table peaked at 764 MB,
    /// about 190 bytes a value).
    public static let printingBytesPerValue = 256

    /// What building and printing a table of `rows × columns` values takes, in bytes
    /// (``printingBytesPerValue`` each); `Int.max` when the count overflows.
    public static func printingBytes(rows: Int, columns: Int) -> Int {
        let (values, overflow) = rows.multipliedReportingOverflow(by: columns)
        let (bytes, tooMany) = values.multipliedReportingOverflow(by: printingBytesPerValue)
        return overflow || tooMany ? Int.max : bytes
    }

    /// Labels around the rows of a matrix.
    public init(rowLabels: [String], columnLabels: [String], matrix: Matrix<Double>, corner: String = "") {
        self.init(rowLabels: rowLabels, columnLabels: columnLabels, values: (0..<matrix.rows).map { matrix.row($0) }, corner: corner)
    }

    /// Plain text with right-aligned, space-separated columns.
    public func text(decimals: Int = 4, decimalsByColumn: [Int]? = nil) -> String {
        Self.aligned([[corner] + columnLabels] + zip(rowLabels, values).map { label, row in
            [label] + row.enumerated().map { NumberFormat.fixed($1, decimals: decimalsByColumn?[$0] ?? decimals) }
        })
    }

    /// Rows of text cells as plain text: the first column left-aligned, the others
    /// right-aligned, columns separated by two spaces. Every row has the first row's cells.
    public static func aligned(_ cells: [[String]]) -> String {
        let columns = cells.first?.count ?? 0
        let widths = (0..<columns).map { c in cells.map { $0[c].count }.max() ?? 0 }
        return cells.map { row in
            row.enumerated().map { c, cell in
                c == 0 ? cell.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                       : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// A GitHub-flavoured Markdown table; the largest value in each row is bold when
    /// `markRowMaximum` is set.
    public func markdown(decimals: Int = 4, markRowMaximum: Bool = false, decimalsByColumn: [Int]? = nil) -> String {
        var lines = ["| \(Markdown.escape(corner)) | " + columnLabels.map(Markdown.escape).joined(separator: " | ") + " |"]
        lines.append("|---|" + String(repeating: "---:|", count: columnLabels.count))
        for (label, row) in zip(rowLabels, values) {
            let best = row.indices.max { row[$0] < row[$1] }
            let cells = row.enumerated().map { j, v -> String in
                let text = NumberFormat.fixed(v, decimals: decimalsByColumn?[j] ?? decimals)
                return markRowMaximum && j == best ? "**\(text)**" : text
            }
            lines.append("| \(Markdown.escape(label)) | " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Number formatting that does not depend on the locale.
public enum NumberFormat {
    /// `value` with exactly `decimals` digits after the point ("nan", "inf" for non-finite).
    public static func fixed(_ value: Double, decimals: Int) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (abs(value) * scale).rounded(.toNearestOrEven)
        guard rounded < 9e15 else { return "\(value)" }
        let integer = Int64(rounded)
        let whole = integer / Int64(scale)
        let fraction = integer % Int64(scale)
        let sign = value < 0 && integer != 0 ? "-" : ""
        if decimals == 0 { return "\(sign)\(whole)" }
        let digits = String(fraction)
        return "\(sign)\(whole)." + String(repeating: "0", count: decimals - digits.count) + digits
    }
}
