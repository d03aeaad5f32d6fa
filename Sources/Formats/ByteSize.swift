import Foundation

/// Sizes in bytes, for messages and memory budgets.
public enum ByteSize {
    /// Bytes as people read them: GB from a gigabyte, MB from a megabyte, kB below.
    public static func readable(_ bytes: Int) -> String {
        switch bytes {
        case 1_000_000_000...: return String(format: "%.1f GB", Double(bytes) / 1e9)
        case 1_000_000...: return String(format: "%.1f MB", Double(bytes) / 1e6)
        default: return String(format: "%.1f kB", Double(bytes) / 1e3)
        }
    }

    /// Bytes in powers of 1024: `1 MiB`, `1.5 GiB`, `300 bytes`; with `compact`, as
    /// ``parse(_:)`` reads them back exactly (`1M`, `1536K`, `300`).
    public static func binary(_ bytes: Int, compact: Bool = false) -> String {
        if compact {
            guard let (size, unit) = units.first(where: { bytes >= $0.size && bytes % $0.size == 0 }) else { return String(bytes) }
            return "\(bytes / size)\(unit)"
        }
        guard let (size, unit) = units.first(where: { bytes >= $0.size }) else { return "\(bytes) bytes" }
        // Whole units and tenths of the remainder, so that no size near Int.max overflows.
        var (whole, tenths) = (bytes / size, (bytes % size * 10 + size / 2) / size)
        if tenths == 10 { (whole, tenths) = (whole + 1, 0) }
        return tenths == 0 && bytes % size == 0 ? "\(whole) \(unit)iB" : "\(whole).\(tenths) \(unit)iB"
    }

    /// The powers of 1024 sizes are written in, largest first.
    static let units: [(size: Int, letter: String)] = [(1 << 40, "T"), (1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")]

    /// A size as people write it: bytes, or a number with K, M, G or T (powers of 1024,
    /// an optional B after them: `4G`, `512M`, `1.5G`, `64KB`); nil unless it is positive
    /// and fits.
    public static func parse(_ text: String) -> Int? {
        let text = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [Character: Double] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024, "T": 1024 * 1024 * 1024 * 1024]
        var number = Substring(text), scale = 1.0
        if text.hasSuffix("B") { number = number.dropLast() }
        if let unit = number.last, let factor = units[unit] {
            scale = factor
            number = number.dropLast()
        }
        guard let value = Double(number), value.isFinite, value > 0, value * scale < 9e18, value * scale >= 1 else { return nil }
        return Int(value * scale)
    }

    /// Three quarters of the machine's memory: what analyses may hold by default.
    public static let defaultBudget = Int(min(ProcessInfo.processInfo.physicalMemory / 4 * 3, UInt64(Int.max)))
}
