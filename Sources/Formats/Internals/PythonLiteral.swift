/// The few Python literals that appear in a `.npy` header, parsed strictly.
///
/// NumPy writes the header with `repr` of a dict and reads it with `ast.literal_eval`; this
/// parser accepts that grammar restricted to what a header can hold: dicts, tuples, lists,
/// strings, integers (with Python 2's `L` suffix), `True`, `False` and `None`. It fails with
/// a reason rather than guessing.
indirect enum PythonLiteral: Equatable {
    case dict([(key: String, value: PythonLiteral)])
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case string(String)
    case integer(Int)
    case bool(Bool)
    case none

    static func == (lhs: PythonLiteral, rhs: PythonLiteral) -> Bool {
        switch (lhs, rhs) {
        case let (.dict(a), .dict(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.tuple(a), .tuple(b)), let (.list(a), .list(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.none, .none): return true
        default: return false
        }
    }

    /// A parse failure, with a reason fit for an error message.
    struct ParseError: Error {
        let reason: String
    }

    /// Parses `text`, which must hold exactly one literal (surrounding whitespace allowed).
    static func parse(_ text: String) throws(ParseError) -> PythonLiteral {
        var parser = Parser(bytes: Array(text.utf8))
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == parser.bytes.count else {
            throw ParseError(reason: "unexpected text after the literal at offset \(parser.position)")
        }
        return value
    }

    /// How deeply containers may nest; a header never needs more than a few levels.
    static let maximumDepth = 16

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        mutating func skipWhitespace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        func describe(_ byte: UInt8) -> String {
            byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        }

        mutating func value(depth: Int) throws(ParseError) -> PythonLiteral {
            guard depth <= PythonLiteral.maximumDepth else { throw ParseError(reason: "nesting deeper than \(PythonLiteral.maximumDepth)") }
            skipWhitespace()
            guard position < bytes.count else { throw ParseError(reason: "unexpected end of header") }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "{"): return try dict(depth: depth)
            case UInt8(ascii: "("): return try parenthesized(depth: depth)
            case UInt8(ascii: "["):
                position += 1
                return .list(try sequence(closing: UInt8(ascii: "]"), depth: depth).items)
            case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .integer(try integer())
            default:
                let word = identifier()
                switch word {
                case "True": return .bool(true)
                case "False": return .bool(false)
                case "None": return .none
                case "": throw ParseError(reason: "unexpected \(describe(byte)) at offset \(position)")
                default: throw ParseError(reason: "unexpected name '\(word)'")
                }
            }
        }

        mutating func identifier() -> String {
            let start = position
            while position < bytes.count, bytes[position] == UInt8(ascii: "_") || isAlphanumeric(bytes[position]) {
                position += 1
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }

        mutating func dict(depth: Int) throws(ParseError) -> PythonLiteral {
            position += 1  // {
            var entries: [(key: String, value: PythonLiteral)] = []
            while true {
                skipWhitespace()
                guard position < bytes.count else { throw ParseError(reason: "unterminated dict") }
                if bytes[position] == UInt8(ascii: "}") {
                    position += 1
                    return .dict(entries)
                }
                guard case let .string(key) = try value(depth: depth + 1) else {
                    throw ParseError(reason: "dict keys must be strings")
                }
                guard !entries.contains(where: { $0.key == key }) else { throw ParseError(reason: "duplicate key '\(key)'") }
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                    throw ParseError(reason: "expected ':' after key '\(key)'")
                }
                position += 1
                entries.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard position < bytes.count else { throw ParseError(reason: "unterminated dict") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                } else if bytes[position] != UInt8(ascii: "}") {
                    throw ParseError(reason: "expected ',' or '}' in dict, found \(describe(bytes[position]))")
                }
            }
        }

        /// `(x)` is just `x` in Python; `()`, `(x,)` and `(x, y)` are tuples.
        mutating func parenthesized(depth: Int) throws(ParseError) -> PythonLiteral {
            position += 1  // (
            let (items, trailingComma) = try sequence(closing: UInt8(ascii: ")"), depth: depth)
            if items.count == 1 && !trailingComma { return items[0] }
            return .tuple(items)
        }

        mutating func sequence(closing: UInt8, depth: Int) throws(ParseError) -> (items: [PythonLiteral], trailingComma: Bool) {
            var items: [PythonLiteral] = []
            var trailingComma = false
            while true {
                skipWhitespace()
                guard position < bytes.count else { throw ParseError(reason: "unterminated tuple or list") }
                if bytes[position] == closing {
                    position += 1
                    return (items, trailingComma)
                }
                items.append(try value(depth: depth + 1))
                trailingComma = false
                skipWhitespace()
                guard position < bytes.count else { throw ParseError(reason: "unterminated tuple or list") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    trailingComma = true
                } else if bytes[position] != closing {
                    throw ParseError(reason: "expected ',' or '\(Character(Unicode.Scalar(closing)))', found \(describe(bytes[position]))")
                }
            }
        }

        mutating func string() throws(ParseError) -> String {
            let quote = bytes[position]
            position += 1
            var scalars: [UInt8] = []
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                if byte == quote { return String(decoding: scalars, as: UTF8.self) }
                if byte == 0x0A { throw ParseError(reason: "newline inside a string") }
                if byte == UInt8(ascii: "\\") {
                    guard position < bytes.count else { break }
                    let escaped = bytes[position]
                    position += 1
                    switch escaped {
                    case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): scalars.append(escaped)
                    case UInt8(ascii: "n"): scalars.append(0x0A)
                    case UInt8(ascii: "t"): scalars.append(0x09)
                    default: throw ParseError(reason: "unsupported escape '\\\(Character(Unicode.Scalar(escaped)))' in a string")
                    }
                } else {
                    scalars.append(byte)
                }
            }
            throw ParseError(reason: "unterminated string")
        }

        mutating func integer() throws(ParseError) -> Int {
            var negative = false
            if bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+") {
                negative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            let start = position
            var value = 0
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                let digit = Int(bytes[position] - UInt8(ascii: "0"))
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(digit)
                guard !overflow1 && !overflow2 else {
                    throw ParseError(reason: "integer at offset \(start) does not fit in 64 bits")
                }
                value = sum
                position += 1
            }
            guard position > start else { throw ParseError(reason: "expected digits at offset \(start)") }
            if position < bytes.count, bytes[position] == UInt8(ascii: "L") || bytes[position] == UInt8(ascii: "l") {
                position += 1  // Python 2 long suffix, written by old NumPy versions.
            }
            if position < bytes.count, isAlphanumeric(bytes[position]) || bytes[position] == UInt8(ascii: ".") {
                throw ParseError(reason: "malformed number at offset \(start)")
            }
            return negative ? -value : value
        }
    }
}
