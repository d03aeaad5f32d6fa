import RepProbeKit

/// Linear CKA of one pair of large matrices, in each form, in Float64 and Float32.
func benchmarkCKA(_ data: DataFolder, _ manifest: Manifest, _ recorder: inout Recorder) throws {
    let c = manifest.cka
    log("repprobe: linear CKA f64")
    try benchmarkCKA(x: data.matrix(c.xF64), y: data.matrix(c.yF64), precision: "f64", &recorder)
    log("repprobe: linear CKA f32")
    try benchmarkCKA(x: data.floatMatrix(c.xF32), y: data.floatMatrix(c.yF32), precision: "f32", &recorder)
}

private func benchmarkCKA<S: BLASScalar>(x: Matrix<S>, y: Matrix<S>, precision: String, _ recorder: inout Recorder) throws {
    let shape = "\(x.rows)×\(x.columns) ×2"
    let flops: [CKAForm: Double] = [
        .feature: CKAFlops.feature(samples: x.rows, widths: [x.columns, y.columns]),
        .gram: CKAFlops.gram(samples: x.rows, widths: [x.columns, y.columns]),
    ]
    let cheaper: CKAForm = flops[.feature]! <= flops[.gram]! ? .feature : .gram
    for form in CKAForm.allCases {
        let id = "cka.\(precision).\(form.rawValue)"
        let value = try recorder.measure(
            id, shape: shape, repeatsKey: form == .gram ? "gram" : "default", flops: flops[form == .automatic ? cheaper : form]
        ) {
            try CKA.linear(x, y, form: form)
        }
        recorder.attach(id, ["cka": [value]])
    }
}

/// All-pairs CKA of a stack of layers: the shared-statistics path against the pair loop.
func benchmarkCKAMatrix(_ data: DataFolder, _ manifest: Manifest, _ recorder: inout Recorder) throws {
    let m = manifest.ckaMatrix
    let layers = try m.layers.map { try data.matrix($0) }
    let count = layers.count
    let widths = layers.map(\.columns)
    let shape = "\(count) layers, n=\(m.n), Σd=\(widths.reduce(0, +))"
    log("repprobe: CKA matrix")

    let all = try recorder.measure(
        "cka_matrix.all_pairs", shape: shape, flops: CKAFlops.feature(samples: m.n, widths: widths)
    ) {
        try CKAMatrix.compute(layers)
    }
    recorder.attach("cka_matrix.all_pairs", ["matrix": all.rowMajorElements])

    var pairFlops = 0.0
    for i in 0..<count { for j in i..<count { pairFlops += CKAFlops.feature(samples: m.n, widths: [widths[i], widths[j]]) } }
    let pairwise = try recorder.measure("cka_matrix.pairwise", shape: shape, flops: pairFlops) {
        var result = Matrix<Double>(rows: count, columns: count)
        for i in 0..<count {
            for j in i..<count {
                let value = try CKA.linear(layers[i], layers[j])
                result[i, j] = value
                result[j, i] = value
            }
        }
        return result
    }
    recorder.attach("cka_matrix.pairwise", ["matrix": pairwise.rowMajorElements])
}

/// Nominal floating-point work of linear CKA's BLAS calls (multiply and add counted apart).
enum CKAFlops {
    /// One `syrk` over the layers side by side: `n·t·(t+1)` for total width `t`.
    static func feature(samples n: Int, widths: [Int]) -> Double {
        let t = Double(widths.reduce(0, +))
        return Double(n) * t * (t + 1)
    }

    /// One `n × n` `syrk` per layer, then one `syrk` over the `L` stacked Grams.
    static func gram(samples n: Int, widths: [Int]) -> Double {
        let nn = Double(n) * Double(n + 1)
        let count = Double(widths.count)
        return widths.reduce(0) { $0 + nn * Double($1) } + Double(n) * Double(n) * count * (count + 1)
    }
}
