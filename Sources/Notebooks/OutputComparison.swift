import Foundation

/// Comparing a block's new output with the one written in the notebook, numbers within a
/// tolerance and all other text exactly.
///
/// Numbers are compared by value rather than as text because the last digits of a result
/// move with the BLAS build and the machine, while a notebook's claims do not.
public enum OutputComparison {
    /// The first difference between an expected and an actual output: numbers may differ by
    /// `tolerance` relative to the larger magnitude (and 1e-9 absolute), everything else
    /// must be equal. `nil` when they agree.
    ///
    /// Whitespace only separates tokens, so a changed alignment is not a difference.
    public static func difference(_ expected: String, _ actual: String, tolerance: Double) -> String? {
        let a = tokens(expected), b = tokens(actual)
        for (index, pair) in zip(a, b).enumerated() {
            switch pair {
            case let (.number(x), .number(y)):
                if abs(x - y) > max(1e-9, tolerance * max(abs(x), abs(y))) {
                    return "number \(index + 1): \(x) became \(y)"
                }
            case let (.text(x), .text(y)) where x == y:
                continue
            default:
                return "'\(pair.0)' became '\(pair.1)'"
            }
        }
        if a.count != b.count { return "\(a.count) tokens became \(b.count)" }
        return nil
    }

    /// A piece of an output: a number, or a run of other characters.
    enum Token: Equatable, CustomStringConvertible {
        case number(Double)
        case text(String)

        var description: String {
            switch self {
            case let .number(value): return String(value)
            case let .text(text): return text
            }
        }
    }

    /// Whitespace-separated words, with each word split into runs of numbers and of other
    /// characters (so "0.998]" is the number 0.998 and "]").
    static func tokens(_ text: String) -> [Token] {
        var result: [Token] = []
        for word in text.split(whereSeparator: \.isWhitespace) {
            var rest = Substring(word)
            while !rest.isEmpty {
                let numberEnd = numberPrefix(rest)
                if numberEnd > 0, let value = Double(rest.prefix(numberEnd)) {
                    result.append(.number(value))
                    rest = rest.dropFirst(numberEnd)
                } else {
                    let end = rest.dropFirst().firstIndex { $0.isNumber || $0 == "-" } ?? rest.endIndex
                    result.append(.text(String(rest[..<end])))
                    rest = rest[end...]
                }
            }
        }
        return result
    }

    /// The length of the number at the start of `text` (sign, digits, point, exponent).
    static func numberPrefix(_ text: Substring) -> Int {
        let characters = Array(text)
        var i = 0
        if i < characters.count, characters[i] == "-" { i += 1 }
        let digitsStart = i
        while i < characters.count, characters[i].isASCII, characters[i].isNumber { i += 1 }
        if i < characters.count, characters[i] == ".", i + 1 < characters.count, characters[i + 1].isASCII, characters[i + 1].isNumber {
            i += 1
            while i < characters.count, characters[i].isASCII, characters[i].isNumber { i += 1 }
        }
        guard i > digitsStart else { return 0 }
        if i + 1 < characters.count, characters[i] == "e" || characters[i] == "E" {
            var j = i + 1
            if j < characters.count, characters[j] == "-" || characters[j] == "+" { j += 1 }
            let exponentStart = j
            while j < characters.count, characters[j].isASCII, characters[j].isNumber { j += 1 }
            if j > exponentStart { i = j }
        }
        return i
    }
}
