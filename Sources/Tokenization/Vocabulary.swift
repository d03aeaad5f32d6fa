/// Token strings to ids, compared by their UTF-8 bytes as the Rust `tokenizers` library
/// compares them (Swift's `String` equality would treat `é` and `e` + combining acute as one).
struct Vocabulary: Sendable {
    private(set) var ids: [[UInt8]: Int] = [:]
    private(set) var tokens: [Int: String] = [:]

    init() {}

    var count: Int { ids.count }

    mutating func insert(_ token: String, id: Int) {
        ids[Array(token.utf8)] = id
        tokens[id] = token
    }

    func id(_ token: String) -> Int? { ids[Array(token.utf8)] }

    func id<S: Sequence>(scalars: S) -> Int? where S.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return ids[Array(String(view).utf8)]
    }
}

/// The model that turns one word into ids.
enum TokenModel: Sendable {
    /// Greedy longest-match-first word pieces; a word that cannot be covered, or is longer
    /// than `maxCharacters`, is the unknown token.
    case wordPiece(vocabulary: Vocabulary, unknown: Int, prefix: String, maxCharacters: Int)
    /// Byte-pair encoding over byte-level characters: the adjacent pair of lowest merge rank
    /// is merged, everywhere from the left, until no pair has a rank.
    case bytePair(vocabulary: Vocabulary, merges: [PairKey: (rank: Int, merged: Int)])

    struct PairKey: Hashable, Sendable {
        let left: Int, right: Int
    }

    var vocabulary: Vocabulary {
        switch self {
        case let .wordPiece(vocabulary, _, _, _), let .bytePair(vocabulary, _): return vocabulary
        }
    }

    func ids(_ word: [Unicode.Scalar]) -> [Int] {
        switch self {
        case let .wordPiece(vocabulary, unknown, prefix, maxCharacters):
            guard word.count <= maxCharacters else { return [unknown] }
            var pieces: [Int] = []
            var start = 0
            let prefixScalars = Array(prefix.unicodeScalars)
            while start < word.count {
                var end = word.count
                var found: Int?
                while start < end {
                    let piece = start > 0 ? prefixScalars + word[start..<end] : Array(word[start..<end])
                    if let id = vocabulary.id(scalars: piece) { found = id; break }
                    end -= 1
                }
                guard let id = found else { return [unknown] }
                pieces.append(id)
                start = end
            }
            return pieces
        case let .bytePair(vocabulary, merges):
            // Every byte-level character is in the vocabulary of a byte-level BPE.
            var symbols = word.compactMap { vocabulary.id(scalars: [$0]) }
            while symbols.count > 1 {
                var best: (rank: Int, merged: Int, left: Int, right: Int)?
                for k in 0..<(symbols.count - 1) {
                    if let merge = merges[PairKey(left: symbols[k], right: symbols[k + 1])], merge.rank < (best?.rank ?? .max) {
                        best = (merge.rank, merge.merged, symbols[k], symbols[k + 1])
                    }
                }
                guard let best else { break }
                var merged: [Int] = []
                merged.reserveCapacity(symbols.count)
                var k = 0
                while k < symbols.count {
                    if k + 1 < symbols.count, symbols[k] == best.left, symbols[k + 1] == best.right {
                        merged.append(best.merged)
                        k += 2
                    } else {
                        merged.append(symbols[k])
                        k += 1
                    }
                }
                symbols = merged
            }
            return symbols
        }
    }
}
