#if canImport(CMPI)
import CMPI
#endif
import Foundation

/// The processes of one `mpirun` launch (Open MPI's `MPI_COMM_WORLD`): this process's rank,
/// how many there are, and the few exchanges a sharded comparison needs.
///
/// Only the thread that created the world calls MPI (`MPI_THREAD_FUNNELED`); the analyses
/// keep every core of their node busy with their own threads in between.
public final class MPIWorld {
    /// This process, `0 ..< size`.
    public let rank: Int
    public let size: Int
    private var finalized = false

    /// Whether this process was started by `mpirun` (Open MPI, or any launcher of the PMI
    /// family), so that it should join the others instead of running alone.
    public static var isLaunchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { environment[$0] != nil }
    }

    /// Whether this build of repprobe has Open MPI.
    public static var isAvailable: Bool {
        #if canImport(CMPI)
        return true
        #else
        return false
        #endif
    }

    /// Joins the launch (`MPI_Init_thread`).
    ///
    /// - Throws: ``ClusterError/builtWithoutMPI`` in a build without Open MPI,
    ///   ``ClusterError/call(_:code:)`` when MPI fails to start.
    public init() throws {
        #if canImport(CMPI)
        var provided: Int32 = 0
        try Self.check("MPI_Init_thread", MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided))
        var (rank, size): (Int32, Int32) = (0, 0)
        try Self.check("MPI_Comm_rank", MPI_Comm_rank(repprobe_mpi_comm_world(), &rank))
        try Self.check("MPI_Comm_size", MPI_Comm_size(repprobe_mpi_comm_world(), &size))
        self.rank = Int(rank)
        self.size = Int(size)
        #else
        throw ClusterError.builtWithoutMPI
        #endif
    }

    deinit { finalize() }

    /// Leaves the launch (`MPI_Finalize`); every process must, before it exits.
    public func finalize() {
        guard !finalized else { return }
        finalized = true
        #if canImport(CMPI)
        MPI_Finalize()
        #endif
    }

    /// Writes `message` to stderr and ends every process of the launch (`MPI_Abort`): for
    /// a failure that leaves other processes waiting on this one.
    public func abort(_ message: String) -> Never {
        FileHandle.standardError.write(Data(("Error: " + message + "\n").utf8))
        #if canImport(CMPI)
        MPI_Abort(repprobe_mpi_comm_world(), 1)
        #endif
        exit(1)
    }

    /// `value` from every process, in rank order, on every process.
    public func allGather(_ value: Int64) throws -> [Int64] {
        var values = [Int64](repeating: 0, count: size)
        #if canImport(CMPI)
        var mine = value
        try values.withUnsafeMutableBytes { out in
            try Self.check("MPI_Allgather", MPI_Allgather(&mine, 1, repprobe_mpi_int64(), out.baseAddress, 1, repprobe_mpi_int64(),
                                                          repprobe_mpi_comm_world()))
        }
        #endif
        return values
    }

    /// The most one message carries; larger ones go in pieces (MPI counts are 32-bit).
    static let piece = 1 << 30

    /// Calls `body(start, count)` for the consecutive pieces of `total` bytes, at least
    /// once (an empty message still travels).
    private static func inPieces(_ total: Int, _ body: (Int, Int) throws -> Void) rethrows {
        var start = 0
        repeat {
            let count = min(piece, total - start)
            try body(start, count)
            start += count
        } while start < total
    }

    /// Sends `bytes` to process `destination`, which must receive as many.
    public func send(_ bytes: UnsafeRawBufferPointer, to destination: Int) throws {
        #if canImport(CMPI)
        try Self.inPieces(bytes.count) { start, count in
            try Self.check("MPI_Send", MPI_Send(bytes.baseAddress.map { $0 + start }, Int32(count), repprobe_mpi_byte(),
                                                Int32(destination), 0, repprobe_mpi_comm_world()))
        }
        #endif
    }

    /// Fills `buffer` with the bytes process `source` sends.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, from source: Int) throws {
        #if canImport(CMPI)
        try Self.inPieces(buffer.count) { start, count in
            try Self.check("MPI_Recv", MPI_Recv(buffer.baseAddress.map { $0 + start }, Int32(count), repprobe_mpi_byte(),
                                                Int32(source), 0, repprobe_mpi_comm_world(), repprobe_mpi_status_ignore()))
        }
        #endif
    }

    /// `count` bytes that process `source` sends.
    public func receive(_ count: Int, from source: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try receive(into: $0, from: source) }
        return bytes
    }

    private static func check(_ call: String, _ code: Int32) throws {
        #if canImport(CMPI)
        guard code == MPI_SUCCESS else { throw ClusterError.call(call, code: Int(code)) }
        #endif
    }
}

/// A problem of a run under `mpirun`.
public enum ClusterError: Error, Equatable, LocalizedError {
    /// Launched by `mpirun`, but built without Open MPI.
    case builtWithoutMPI
    /// An MPI call failed.
    case call(String, code: Int)
    /// Some processes failed; their ranks and messages (each distinct message once).
    case ranksFailed([(ranks: [Int], message: String)])
    /// Another process failed and rank 0 reports it.
    case anotherRankFailed

    public static func == (a: ClusterError, b: ClusterError) -> Bool { a.errorDescription == b.errorDescription }

    public var errorDescription: String? {
        switch self {
        case .builtWithoutMPI:
            return "started by mpirun, but this repprobe was built without Open MPI: install libopenmpi-dev and openmpi-bin "
                + "(scripts/install-system-packages.sh does) and build again"
        case let .call(call, code):
            return "\(call) failed with MPI error \(code)"
        case let .ranksFailed(failures):
            return failures.map { "rank\($0.ranks.count == 1 ? "" : "s") \($0.ranks.map(String.init).joined(separator: ", ")): \($0.message)" }
                .joined(separator: "\n")
        case .anotherRankFailed:
            return "stopped: another process failed (rank 0 reports why)"
        }
    }
}
