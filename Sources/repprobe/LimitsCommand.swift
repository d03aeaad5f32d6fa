import ArgumentParser
import RepProbeKit

struct LimitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract: "List the limits on what one file may make repprobe read or allocate, and how to raise them.",
        discussion: """
            A file beyond a limit is refused with an error naming the file and the limit. \
            \(ResourceLimit.environmentVariable)=NAME=VALUE[,NAME=VALUE…] raises limits for one run \
            (sizes in bytes or with K, M, G, T: \(ResourceLimit.environmentVariable)=npy-header=4M,pickle-depth=500).
            """
    )

    func run() {
        let nameWidth = ResourceLimit.all.map(\.name.count).max() ?? 0
        let values = ResourceLimit.all.map(\.readable)
        let valueWidth = values.map(\.count).max() ?? 0
        for (limit, value) in zip(ResourceLimit.all, values) {
            let raised = limit.value == limit.defaultValue ? "" : " (raised from \(ResourceLimit.readable(limit.defaultValue, bytes: limit.isBytes)))"
            print(limit.name.padding(toLength: nameWidth + 2, withPad: " ", startingAt: 0)
                  + value.padding(toLength: valueWidth + 2, withPad: " ", startingAt: 0) + limit.meaning + raised)
        }
    }
}
