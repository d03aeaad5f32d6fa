import Foundation

/// A text normaliser of the Hugging Face `tokenizers` pipeline, applied before the text is
/// split into words.
enum Normalizer: Sendable, Equatable {
    /// BERT's: control characters removed, whitespace made a space, CJK ideographs spaced,
    /// accents stripped (NFD, then non-spacing marks removed) and lower-casing, each if set.
    case bert(cleanText: Bool, spaceCJK: Bool, stripAccents: Bool, lowercase: Bool)
    case lowercase
    case stripAccents
    case nfd, nfc, nfkd, nfkc
    case sequence([Normalizer])

    func apply(_ text: String) -> String {
        switch self {
        case let .bert(cleanText, spaceCJK, stripAccents, lowercase):
            var result = String.UnicodeScalarView()
            for scalar in text.unicodeScalars {
                if cleanText {
                    if scalar.value == 0 || scalar.value == 0xFFFD { continue }
                    let isSpace = scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar.isTokenizerWhitespace
                    if isSpace { result.append(" "); continue }
                    if scalar.isOther { continue }
                }
                if spaceCJK && scalar.isCJKIdeograph {
                    result.append(" "); result.append(scalar); result.append(" ")
                } else {
                    result.append(scalar)
                }
            }
            var normalized = String(result)
            if stripAccents { normalized = Normalizer.stripAccents.apply(normalized) }
            if lowercase { normalized = Normalizer.lowercase.apply(normalized) }
            return normalized
        case .lowercase:
            // Scalar by scalar, without context (no final sigma), as Rust's char::to_lowercase.
            var result = ""
            for scalar in text.unicodeScalars { result += scalar.properties.lowercaseMapping }
            return result
        case .stripAccents:
            var result = String.UnicodeScalarView()
            for scalar in Normalizer.nfd.apply(text).unicodeScalars where scalar.properties.generalCategory != .nonspacingMark {
                result.append(scalar)
            }
            return String(result)
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case let .sequence(steps):
            return steps.reduce(text) { $1.apply($0) }
        }
    }
}
