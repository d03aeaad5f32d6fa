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

    /// Three quarters of the machine's memory: what analyses may hold by default.
    public static let defaultBudget = Int(min(ProcessInfo.processInfo.physicalMemory / 4 * 3, UInt64(Int.max)))
}
