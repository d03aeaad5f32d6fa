@_exported import LinearAlgebra
@_exported import Formats
@_exported import Activations
@_exported import Analysis
@_exported import Report
@_exported import Networks
@_exported import Probe
@_exported import Comparison
