/// A small JSON reader and writer: safetensors headers, Hugging Face configurations and
/// tokenizer files.
///
/// Foundation's `JSONSerialization` loses the order of object keys and silently keeps the
/// last of duplicated keys; a safetensors header needs both kept straight (the key order is
/// the tensor order we report, and a duplicated tensor name is an error). Integers are kept
/// exact as `Int`; other numbers, and integers beyond 64 bits, become `Double`.
public indirect enum JSONValue: Equatable, Sendable {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case null

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(a), .array(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }

    /// A parse failure, with a reason fit for an error message.
    public struct ParseError: Error, Sendable {
        public let reason: String
    }

    /// Parses UTF-8 `bytes` holding exactly one JSON value (surrounding whitespace allowed),
    /// whose containers nest at most `maximumDepth` levels deep.
    public static func parse(_ bytes: [UInt8], maximumDepth: Int = ResourceLimit.jsonDepth.value) throws(ParseError) -> JSONValue {
        var parser = Parser(bytes: bytes, maximumDepth: maximumDepth)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else {
            throw ParseError(reason: "unexpected text after the JSON value at offset \(parser.position)")
        }
        return value
    }

    /// Compact JSON text, object keys in their stored order.
    public var serialized: String {
        switch self {
        case let .object(entries):
            return "{" + entries.map { JSONValue.quote($0.key) + ":" + $0.value.serialized }.joined(separator: ",") + "}"
        case let .array(items):
            return "[" + items.map(\.serialized).joined(separator: ",") + "]"
        case let .string(text): return JSONValue.quote(text)
        case let .integer(value): return String(value)
        case let .number(value): return value.isFinite ? "\(value)" : "null"
        case let .bool(value): return value ? "true" : "false"
        case .null: return "null"
        }
    }

    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case let s where s.value < 0x20:
                let hex = String(s.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0
        let maximumDepth: Int

        mutating func skipWhitespace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func expect(_ literal: String, _ value: JSONValue) throws(ParseError) -> JSONValue {
            let expected = Array(literal.utf8)
            guard bytes.count - position >= expected.count, Array(bytes[position..<(position + expected.count)]) == expected else {
                throw ParseError(reason: "unexpected text at offset \(position)")
            }
            position += expected.count
            return value
        }

        mutating func value(depth: Int) throws(ParseError) -> JSONValue {
            // A safetensors header needs three levels, a tokenizer file six.
            guard depth <= maximumDepth else {
                throw ParseError(reason: "nesting deeper than \(maximumDepth) \(ResourceLimit.jsonDepth.exceeded)")
            }
            skipWhitespace()
            guard position < bytes.count else { throw ParseError(reason: "unexpected end of JSON") }
            switch bytes[position] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw ParseError(reason: "unexpected character at offset \(position)")
            }
        }

        mutating func object(depth: Int) throws(ParseError) -> JSONValue {
            position += 1
            var entries: [(key: String, value: JSONValue)] = []
            var keys = Set<String>()
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(entries)
            }
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                    throw ParseError(reason: "expected a string key at offset \(position)")
                }
                let key = try string()
                guard keys.insert(key).inserted else { throw ParseError(reason: "duplicate key \"\(key)\"") }
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                    throw ParseError(reason: "expected ':' after key \"\(key)\"")
                }
                position += 1
                entries.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard position < bytes.count else { throw ParseError(reason: "unterminated object") }
                if bytes[position] == UInt8(ascii: "}") {
                    position += 1
                    return .object(entries)
                }
                guard bytes[position] == UInt8(ascii: ",") else { throw ParseError(reason: "expected ',' or '}' at offset \(position)") }
                position += 1
            }
        }

        mutating func array(depth: Int) throws(ParseError) -> JSONValue {
            position += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(items)
            }
            while true {
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard position < bytes.count else { throw ParseError(reason: "unterminated array") }
                if bytes[position] == UInt8(ascii: "]") {
                    position += 1
                    return .array(items)
                }
                guard bytes[position] == UInt8(ascii: ",") else { throw ParseError(reason: "expected ',' or ']' at offset \(position)") }
                position += 1
            }
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard bytes.count - position >= 4 else { throw ParseError(reason: "truncated \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = Character(Unicode.Scalar(bytes[position])).hexDigitValue else {
                    throw ParseError(reason: "bad \\u escape at offset \(position)")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }

        mutating func string() throws(ParseError) -> String {
            position += 1  // opening quote
            var utf8: [UInt8] = []
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: utf8, as: UTF8.self) else {
                        throw ParseError(reason: "string is not valid UTF-8")
                    }
                    return text
                case 0..<0x20:
                    throw ParseError(reason: "control character in a string at offset \(position - 1)")
                case UInt8(ascii: "\\"):
                    guard position < bytes.count else { throw ParseError(reason: "unterminated string") }
                    let escaped = bytes[position]
                    position += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code) {
                            guard bytes.count - position >= 6, bytes[position] == UInt8(ascii: "\\"),
                                bytes[position + 1] == UInt8(ascii: "u")
                            else { throw ParseError(reason: "unpaired surrogate in a string") }
                            position += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw ParseError(reason: "unpaired surrogate in a string") }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw ParseError(reason: "invalid \\u escape") }
                        utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default:
                        throw ParseError(reason: "invalid escape at offset \(position - 1)")
                    }
                default:
                    utf8.append(byte)
                }
            }
            throw ParseError(reason: "unterminated string")
        }

        mutating func number() throws(ParseError) -> JSONValue {
            let start = position
            func digits() -> Int {
                let from = position
                while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
                return position - from
            }
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            let integerStart = position
            guard digits() > 0 else { throw ParseError(reason: "malformed number at offset \(start)") }
            if bytes[integerStart] == UInt8(ascii: "0") && position - integerStart > 1 {
                throw ParseError(reason: "number with a leading zero at offset \(start)")
            }
            var isInteger = true
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                isInteger = false
                guard digits() > 0 else { throw ParseError(reason: "malformed number at offset \(start)") }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                position += 1
                isInteger = false
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
                guard digits() > 0 else { throw ParseError(reason: "malformed number at offset \(start)") }
            }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            // An integer beyond 64 bits (tokenizer configs write 1e30 as digits) is a number;
            // whoever needs an exact integer (a safetensors offset) refuses it.
            if isInteger, let value = Int(text) { return .integer(value) }
            guard let value = Double(text) else { throw ParseError(reason: "malformed number \(text)") }
            return .number(value)
        }
    }
}

extension JSONValue {
    /// The value of `key` in an object (`nil` for other values or a missing key).
    public subscript(key: String) -> JSONValue? {
        guard case let .object(entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The entries of an object, in file order.
    public var objectEntries: [(key: String, value: JSONValue)]? {
        if case let .object(entries) = self { return entries }
        return nil
    }

    public var arrayItems: [JSONValue]? {
        if case let .array(items) = self { return items }
        return nil
    }

    public var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    /// An integer, or a number that is exactly one.
    public var intValue: Int? {
        switch self {
        case let .integer(value): return value
        case let .number(value) where value.rounded() == value && abs(value) < 9e15: return Int(value)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case let .integer(value): return Double(value)
        case let .number(value): return value
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    public var isNull: Bool { self == .null }
}
