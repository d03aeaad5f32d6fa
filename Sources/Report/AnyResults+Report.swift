import Results

extension AnyResults {
    /// The report these results render to, as the run that made them wrote it: the run time
    /// is left out unless `includeTiming`, and when the results were written without it.
    public func report(includeTiming: Bool = true) -> any WrittenReport {
        switch self {
        case let .comparison(results): return ComparisonReport(results, includeTiming: includeTiming && results.runSeconds > 0)
        case let .receptiveFields(results):
            return ReceptiveFieldReport(results, includeTiming: includeTiming && results.runSeconds > 0)
        case let .training(log): return TrainingReport(log: log)
        }
    }
}
