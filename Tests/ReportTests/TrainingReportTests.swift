import Foundation
import Report
import Results
import Testing

/// The training report, rendered from a log alone.
@Suite struct TrainingReportTests {
    @Test func reportHasItsCurvesAndTable() throws {
        let log = TrainingLog(
            recipe: "r", architecture: "a", parameters: 10, seed: 1, probeSet: "digits", samples: 4, layers: ["stem", "fc"],
            reference: "the initial weights",
            records: [0, 10].map { step in
                TrainingLog.Record(step: step, epoch: Double(step) / 10, loss: step == 0 ? nil : 0.5,
                                   probeSetAccuracy: step == 0 ? 0.1 : 0.9,
                                   classAccuracy: [.init(label: 3, samples: 2, accuracy: step == 0 ? 0 : 1),
                                                   .init(label: 7, samples: 2, accuracy: step == 0 ? 0.5 : 1)],
                                   layers: [
                                       .init(name: "stem", ckaToReference: step == 0 ? 1 : 0.8, probeAccuracy: 0.7, participationRatio: 3),
                                       .init(name: "fc", ckaToReference: step == 0 ? 1 : 0.2, probeAccuracy: 0.6, participationRatio: 2),
                                   ])
            })
        var threeFold = log
        threeFold.probeFolds = 3
        let probeChart = try #require(TrainingReport(log: threeFold).figures().first { $0.name == "probe_accuracy.svg" })
        #expect(probeChart.svg.contains("(ridge, 3-fold)"))
        let files = try TrainingReport(log: log).files()
        #expect(files.map(\.name) == ["cka_to_reference.svg", "log.json", "loss.svg", "participation_ratio.svg",
                                      "probe_accuracy.svg", "report.md"])
        let markdown = String(decoding: try #require(files.first { $0.name == "report.md" }).contents, as: UTF8.self)
        #expect(markdown.contains("| fc | 0.200 | 0.600 | 0.600 | 2.0 |"))
        #expect(markdown.contains("| class | samples | accuracy | at step 0 |\n| ---: | ---: | ---: | ---: |\n| 3 | 2 | 1.000 | 0.000 |\n| 7 | 2 | 1.000 | 0.500 |"))
        let decoded = try JSONDecoder().decode(TrainingLog.self, from: try #require(files.first { $0.name == "log.json" }).contents)
        #expect(decoded.records.count == 2 && decoded.records[1].layers[1].ckaToReference == 0.2)
    }
}
