/// The character classes the Hugging Face tokenizers use, on Unicode scalars (the `char`s of
/// the Rust `tokenizers` library, not Swift's grapheme clusters).
extension Unicode.Scalar {
    /// The White_Space property, which Rust's `char::is_whitespace` and the `\s` of the
    /// GPT-2 pattern test.
    var isTokenizerWhitespace: Bool { properties.isWhitespace }

    /// General category L (letters).
    var isLetter: Bool {
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// General category N (numbers).
    var isNumber: Bool {
        switch properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// General category P (punctuation).
    var isPunctuation: Bool {
        switch properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    /// General category C (control, format, unassigned, private use, surrogate).
    var isOther: Bool {
        switch properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// BERT's punctuation: ASCII punctuation (which includes `$`, `+`, `<`, `^`, …) or
    /// Unicode category P.
    var isBERTPunctuation: Bool {
        (value >= 33 && value <= 47) || (value >= 58 && value <= 64) || (value >= 91 && value <= 96)
            || (value >= 123 && value <= 126) || isPunctuation
    }

    /// The CJK ideograph blocks that BERT surrounds with spaces.
    var isCJKIdeograph: Bool {
        switch value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
