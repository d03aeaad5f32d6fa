import ArgumentParser
import Foundation
import RepProbeKit

struct CKACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cka",
        abstract: "Print the layer × layer CKA matrix of one activation file, or of two against each other.",
        discussion: """
            With one file, every layer is compared with every other layer of that file. With two, \
            rows are the layers of A and columns the layers of B. With --same-layers, each layer of A \
            is compared only with the layer of the same name in B and in any further files (how far \
            each layer moved between checkpoints, say): one column per file. All files must hold the \
            same inputs in the same order.
            """
    )

    @Argument(help: "Activation file A (.npy, .npz or .safetensors).")
    var fileA: String

    @Argument(help: "Activation file B (default: A against itself); with --same-layers, any number of files.")
    var others: [String] = []

    @Flag(help: "Compare each layer of A only with the layer of the same name in each other file.")
    var sameLayers = false

    @OptionGroup var activations: ActivationOptions
    @OptionGroup var cka: CKAArguments

    @Option(help: ArgumentHelp("Also print each layer's best match with a bootstrap 95% interval from N resamples of the samples (same kernel and estimator as the table).", valueName: "N"))
    var bootstrap: Int?

    @Option(help: ArgumentHelp("Also test each layer's best match against N random pairings of the samples (permutation p-value).", valueName: "N"))
    var permutations: Int?

    @Option(help: "Seed of the bootstrap and permutation resampling.")
    var seed: UInt64 = 0

    @Flag(help: "Print {\"layers_a\": [...], \"layers_b\": [...], \"matrix\": [[...]]} instead of a table.")
    var json = false

    @Option(help: ArgumentHelp("Memory the activations may take (e.g. 4G; default three quarters of RAM). Beyond it the table is streamed from .safetensors files or shard sets: linear CKA with the biased estimator exactly, with the unbiased one as minibatch CKA (Nguyen et al. 2021) over batches of --batch-size.", valueName: "size"))
    var memory: MemorySize?

    @Option(help: "Samples per batch of minibatch CKA, when the unbiased estimator streams.")
    var batchSize = 256

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the statistics of the table (linear CKA, biased estimator) to FILE.safetensors instead of printing it, streamed from .safetensors files or shard sets: the K-th shard's with --shard. `repprobe merge` joins shards and prints the table or writes the report.", valueName: "file.safetensors"))
    var output: String?

    @Option(help: ArgumentHelp("Read only the K-th of N equal slices of the samples (1 ≤ K ≤ N) and write its statistics to -o FILE.safetensors.", valueName: "K/N"),
            transform: { try Shard(parsing: $0) })
    var shard: Shard?

    var fileB: String? { others.first }

    func validate() throws {
        if others.count > 1 && !sameLayers { throw ValidationError("give at most two files, or use --same-layers") }
        if sameLayers && others.isEmpty { throw ValidationError("--same-layers needs a second file") }
        if sameLayers && (bootstrap != nil || permutations != nil) {
            throw ValidationError("--bootstrap and --permutations apply to the layer × layer table; leave out --same-layers")
        }
        if let bootstrap, bootstrap < 2 { throw ValidationError("--bootstrap needs at least 2 resamples, got \(bootstrap)") }
        if let permutations, permutations < 1 { throw ValidationError("--permutations needs at least 1 permutation, got \(permutations)") }
        guard batchSize >= 4 else { throw ValidationError("--batch-size must be at least 4 (an unbiased HSIC needs 4 samples), got \(batchSize)") }
        if (bootstrap != nil || permutations != nil) && json {
            throw ValidationError("--bootstrap and --permutations print a table; leave out --json")
        }
        if shard != nil && output == nil { throw ValidationError("--shard K/N writes the shard's statistics: name the file with -o FILE.safetensors") }
        if let output {
            guard output.hasSuffix(".safetensors") else { throw ValidationError("-o writes the statistics of the table: name a FILE.safetensors, not '\(output)'") }
            guard !sameLayers, bootstrap == nil, permutations == nil, !json, cka.kernel == .linear, cka.estimator == .biased else {
                throw ValidationError("-o writes the statistics of the layer × layer table of linear CKA with the biased estimator: "
                                      + "leave out --same-layers, --bootstrap, --permutations, --json, --kernel rbf and --estimator unbiased")
            }
        }
    }

    func run() throws {
        let budget = memory?.bytes ?? ByteSize.defaultBudget
        let urls = ([fileA] + others).map { URL(fileURLWithPath: $0) }
        if let output { return try writeStatistics(urls, to: output, budget: budget) }
        if let streams = try ActivationStream.streams(ifLargerThan: budget, urls, reduction: activations.reduction.seeded(seed),
                                                      layers: activations.layerNames) {
            return try printStreamed(streams, budget: budget)
        }
        let a = try activations.load(fileA, seed: seed)
        if sameLayers { return try printSameLayers(a) }
        let b = try fileB.map { try activations.load($0, seed: seed) }
        if let b, a.sampleCount != b.sampleCount {
            throw ValidationError("\(fileA) has \(a.sampleCount) samples but \(fileB ?? "") has \(b.sampleCount); both must hold the same inputs in the same order")
        }
        let samples = a.sampleCount
        try requireTableFits((fileA, a.layers.count), against: b.map { (fileB ?? "", $0.layers.count) }, budget: budget)
        guard bootstrap != nil || permutations != nil else {
            // Nothing else reads the activations: the analysis may overwrite them.
            return try printTable(try cka.table(consume a, consume b), samples: samples)
        }
        let table = try cka.table(a, b)
        try printTable(table, samples: samples)
        try printBestMatches(table, a: a.layers.map(\.matrix), b: (b ?? a).layers.map(\.matrix), selfComparison: b == nil)
    }

    private func printTable(_ table: LabelledMatrix, samples: Int) throws {
        if json {
            print(try Output.json(MatrixJSON(table)), terminator: "")
        } else {
            print("\(cka.label), \(samples) samples")
            print(table.text(), terminator: "")
        }
    }

    /// The table of files too large for memory, from statistics streamed a block of samples
    /// at a time.
    private func printStreamed(_ streams: [ActivationStream], budget: Int) throws {
        let a = streams[0], b = streams.count > 1 ? streams[1] : nil
        let bytes = streams.compactMap(\.bytesInMemory).reduce(0, +)
        guard !sameLayers, bootstrap == nil, permutations == nil, cka.kernel == .linear else {
            throw ValidationError("the activations would take \(ByteSize.readable(bytes)), more than the \(ByteSize.readable(budget)) budget (--memory), "
                                  + "and only the layer × layer table of linear CKA streams: "
                                  + "leave out --same-layers, --bootstrap, --permutations and --kernel rbf, or raise --memory")
        }
        try requireTableFits((fileA, a.layerNames.count), against: b.map { (fileB ?? "", $0.layerNames.count) }, budget: budget)
        let why = "the activations would take \(ByteSize.readable(bytes)), more than the \(ByteSize.readable(budget)) budget"
        let table: LabelledMatrix
        if cka.estimator == .biased {
            Diagnostics.note("\(why): streaming linear CKA over \(a.sampleCount) samples")
            let matrix = try ActivationStream.streamingCKA(a, b, memoryLimit: budget).cka()
            table = LabelledMatrix(rowLabels: a.layerNames, columnLabels: (b ?? a).layerNames,
                                   values: (0..<matrix.rows).map { matrix.row($0) }, corner: "A \\ B")
        } else {
            Diagnostics.note("\(why): streaming minibatch CKA over \(a.sampleCount) samples (Nguyen et al. 2021: the unbiased HSIC of each batch of "
                             + "\(batchSize), averaged over batches; an estimate of the population CKA, not the unbiased CKA of all samples at once)")
            let (accumulator, skipped) = try ActivationStream.minibatchCKA(a, b, batchSize: batchSize)
            if skipped > 0 { Diagnostics.note("minibatch CKA leaves out the last batch of \(skipped) samples: an unbiased HSIC needs at least 4") }
            let similarity = try LayerSimilarity(minibatch: accumulator, reduction: a.reduction)
            table = LabelledMatrix(rowLabels: similarity.layersA, columnLabels: similarity.layersB, values: similarity.values, corner: "A \\ B")
        }
        try printTable(table, samples: a.sampleCount)
    }

    /// The statistics of the table over the samples or ``shard`` of them, streamed, written to
    /// `output`; every pair of layers is kept when that takes at most a third of the budget
    /// (room to join shards later), else only the pairs across.
    private func writeStatistics(_ urls: [URL], to output: String, budget: Int) throws {
        try AtomicFile.checkWritable(URL(fileURLWithPath: output))
        let streams = try urls.map { try ActivationStream($0, reduction: activations.reduction.seeded(seed), layers: activations.layerNames) }
        let accumulator = try SimilarityAccumulator(streaming: streams[0], against: streams.count > 1 ? streams[1] : nil, shard: shard,
                                                    memoryLimit: budget, allPairsLimit: budget / 3, repprobeVersion: RepProbeVersion.current)
        try accumulator.write(to: URL(fileURLWithPath: output))
        print(ShardStatistics.wrote(output, accumulator))
    }

    /// Each layer of A against the layer of the same name in every other file, a column per
    /// file; layers that some file lacks are left out (and named on standard error).
    private func printSameLayers(_ a: ActivationSet) throws {
        let sets = try others.map { try activations.load($0, seed: seed) }
        for (file, set) in zip(others, sets) where set.sampleCount != a.sampleCount {
            throw ValidationError("\(fileA) has \(a.sampleCount) samples but \(file) has \(set.sampleCount); all must hold the same inputs in the same order")
        }
        let shared = a.layers.filter { layer in sets.allSatisfy { $0.layers.contains { $0.name == layer.name } } }
        guard !shared.isEmpty else {
            throw ValidationError("\(fileA) and \(others.joined(separator: ", ")) have no layer name in common")
        }
        let left = a.layers.map(\.name).filter { name in !shared.contains { $0.name == name } }
        if !left.isEmpty {
            FileHandle.standardError.write(Data("left out (not in every file): \(left.joined(separator: ", "))\n".utf8))
        }
        let values = try shared.map { layer in
            try sets.map { set in
                let other = set.layers.first { $0.name == layer.name }!
                return try cka.matrix(ActivationSet(layers: [layer], source: fileA), ActivationSet(layers: [other], source: set.source))[0][0]
            }
        }
        let names = others.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
        if json {
            struct SameLayers: Encodable { var layers: [String]; var files: [String]; var cka: [[Double?]] }
            print(try Output.json(SameLayers(layers: shared.map(\.name), files: others,
                                             cka: values.map { $0.map { $0.isFinite ? $0 : nil } })), terminator: "")
            return
        }
        print("\(cka.label), \(a.sampleCount) samples, each layer of \(URL(fileURLWithPath: fileA).lastPathComponent) against the same layer of")
        print(LabelledMatrix(rowLabels: shared.map(\.name), columnLabels: names, values: values, corner: "layer").text(), terminator: "")
    }

    /// Each layer's best match, with a bootstrap interval and/or a permutation p-value.
    private func printBestMatches(_ table: LabelledMatrix, a: [Matrix<Double>], b: [Matrix<Double>], selfComparison: Bool) throws {
        let options = cka.options
        let matches = try bootstrap.map {
            try LayerCorrespondence.bestMatchesWithIntervals(
                table.values, rows: table.rowLabels, columns: table.columnLabels, a: a, b: b, cka: options, resamples: $0, seed: seed,
                excludingDiagonal: selfComparison)
        } ?? LayerCorrespondence.bestMatches(table.values, rows: table.rowLabels, columns: table.columnLabels, excludingDiagonal: selfComparison)
        var columns = ["CKA"]
        var rows = matches.map { [$0.similarity] }
        if let bootstrap {
            columns += ["lower", "upper"]
            for (k, m) in matches.enumerated() { rows[k] += [m.interval?.lower ?? .nan, m.interval?.upper ?? .nan] }
            print("\nbest match of each layer of A, with a 95% bootstrap interval (\(bootstrap) resamples)")
        } else {
            print("\nbest match of each layer of A")
        }
        if let permutations {
            columns.append("p")
            for (k, m) in matches.enumerated() {
                guard let i = table.rowLabels.firstIndex(of: m.layer), let j = table.columnLabels.firstIndex(of: m.bestMatch) else { continue }
                let test = try CKAResampling.permutationTest(
                    a[i], b[j], kernel: options.kernel, estimator: options.estimator, permutations: permutations, seed: seed)
                rows[k].append(test.pValue)
            }
            print("p = permutation p-value of that CKA against \(permutations) random pairings of the samples")
        }
        let names = matches.map { "\($0.layer) → \($0.bestMatch)" }
        print(LabelledMatrix(rowLabels: names, columnLabels: columns, values: rows, corner: "match").text(), terminator: "")
    }
}
