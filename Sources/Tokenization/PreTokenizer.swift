/// How normalised text is split into words before the model sees them.
enum PreTokenizer: Sendable, Equatable {
    /// BERT's: split at whitespace (dropped) and around every punctuation character.
    case bert
    /// GPT-2's byte-level split: the GPT-2 pattern (contractions, letters, numbers, other
    /// characters, each with at most one leading space; whitespace runs), then every UTF-8
    /// byte mapped to a printable character. `addPrefixSpace` puts a space before text that
    /// does not start with one.
    case byteLevel(addPrefixSpace: Bool)
    /// Split at whitespace only.
    case whitespaceSplit

    func split(_ text: String) -> [[Unicode.Scalar]] {
        let scalars = Array(text.unicodeScalars)
        switch self {
        case .bert:
            var words: [[Unicode.Scalar]] = []
            var current: [Unicode.Scalar] = []
            for scalar in scalars {
                if scalar.isTokenizerWhitespace {
                    if !current.isEmpty { words.append(current); current = [] }
                } else if scalar.isBERTPunctuation {
                    if !current.isEmpty { words.append(current); current = [] }
                    words.append([scalar])
                } else {
                    current.append(scalar)
                }
            }
            if !current.isEmpty { words.append(current) }
            return words
        case .whitespaceSplit:
            return scalars.split(whereSeparator: \.isTokenizerWhitespace).map(Array.init)
        case let .byteLevel(addPrefixSpace):
            var input = scalars
            if addPrefixSpace, input.first != " " { input.insert(" ", at: 0) }
            return GPT2Pattern.split(input).map { ByteLevelAlphabet.encode($0) }
        }
    }
}

/// The GPT-2 split pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
/// matched by hand: at each position the first alternative that matches wins, and each
/// alternative takes the longest run it can.
enum GPT2Pattern {
    static let contractions: [[Unicode.Scalar]] = ["s", "t", "re", "ve", "m", "ll", "d"].map { Array($0.unicodeScalars) }

    static func split(_ s: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var pieces: [[Unicode.Scalar]] = []
        var i = 0
        func run(from start: Int, while predicate: (Unicode.Scalar) -> Bool) -> Int {
            var j = start
            while j < s.count, predicate(s[j]) { j += 1 }
            return j
        }
        let isOtherClass: (Unicode.Scalar) -> Bool = { !$0.isTokenizerWhitespace && !$0.isLetter && !$0.isNumber }
        while i < s.count {
            var end = i
            if s[i] == "'", let suffix = contractions.first(where: { c in
                i + 1 + c.count <= s.count && Array(s[(i + 1)..<(i + 1 + c.count)]) == c
            }) {
                end = i + 1 + suffix.count
            } else {
                let afterSpace = s[i] == " " && i + 1 < s.count ? i + 1 : i
                for predicate in [{ (c: Unicode.Scalar) in c.isLetter }, { (c: Unicode.Scalar) in c.isNumber }, isOtherClass] {
                    if predicate(s[afterSpace]) { end = run(from: afterSpace, while: predicate); break }
                    if afterSpace != i, predicate(s[i]) { end = run(from: i, while: predicate); break }
                }
                if end == i {
                    // Whitespace: the run, less its last character when a non-space follows.
                    let whitespaceEnd = run(from: i, while: \.isTokenizerWhitespace)
                    if whitespaceEnd == s.count || whitespaceEnd - i == 1 {
                        end = whitespaceEnd
                    } else {
                        end = whitespaceEnd - 1
                    }
                }
            }
            pieces.append(Array(s[i..<end]))
            i = end
        }
        return pieces
    }
}

/// GPT-2's reversible map of the 256 byte values to printable characters: printable Latin-1
/// bytes stand for themselves, the others take the code points from 256 up, in order.
enum ByteLevelAlphabet {
    static let characters: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The mapped characters of the UTF-8 bytes of `scalars`.
    static func encode(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view).utf8.map { characters[Int($0)] }
    }
}
