import ArgumentParser
import Foundation
import RepProbeKit

@main
struct RepProbe: ParsableCommand {
    /// Starts the process again once with the environment OpenBLAS reads as it loads
    /// (``BLASThreads``), tunes the allocator (``AllocatorSettings``), raises the limits on
    /// untrusted input that `REPPROBE_LIMITS` names (``ResourceLimit``), then parses and
    /// runs the command.
    static func main() {
        BLASThreads.restartWithEnvironment()
        // Every command reads and frees blocks of megabytes (files read a block at a time,
        // tensors of a forward pass): kept on the heap, they reuse pages already faulted in.
        _ = AllocatorSettings.applied
        do {
            try ResourceLimit.applyEnvironment()
        } catch {
            Self.exit(withError: error)
        }
        main(nil)
    }

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
            ReportCommand.self, MergeCommand.self, LimitsCommand.self,
        ]
    )
}

enum RepProbeVersion {
    static let current = "0.1.0"
}
