import ArgumentParser

@main
struct RepProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repprobe",
        abstract: "Compare the representations that neural networks learn.",
        discussion: """
            Activation files are NumPy .npy/.npz, .safetensors or PyTorch torch.save files, \
            recognised by content: one samples × features array per layer (rank 3 and 4 arrays are reduced, see --reduction).
            """,
        version: RepProbeVersion.current,
        subcommands: [
            DemoCommand.self, CompareCommand.self, LayersCommand.self, RunCommand.self, CaptureCommand.self, ConvertCommand.self,
            OperatorsCommand.self, CKACommand.self, SimilarityCommand.self, PCACommand.self, ProbeCommand.self,
            StimuliCommand.self, NotebookCommand.self, ReceptiveFieldCommand.self, TrainCommand.self, IdentifyCommand.self,
            ReportCommand.self, MergeCommand.self,
        ]
    )
}

enum RepProbeVersion {
    static let current = "0.1.0"
}
