import Results

extension AnyResults {
    /// The report these results render to, as the run that made them wrote it (the run
    /// time left out unless `includeTiming`).
    public func report(includeTiming: Bool = true) -> any WrittenReport {
        switch self {
        case let .comparison(results): return ComparisonReport(results, includeTiming: includeTiming)
        case let .receptiveFields(results): return ReceptiveFieldReport(results, includeTiming: includeTiming)
        case let .training(log): return TrainingReport(log: log)
        }
    }
}
