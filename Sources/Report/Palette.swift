/// Distinguishable colours for categories (series of a line chart, classes of a scatter plot).
public enum Palette {
    /// Ten strong, mutually distinct hues (the widely used "category10" set).
    public static let qualitative: [RGBColor] = [
        0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
        0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf,
    ].map { RGBColor(hex: $0) }

    /// The colour of category `index`: the ten base hues, then the same hues lightened,
    /// then darkened, then repeating. Negative indices are grey.
    public static func color(_ index: Int) -> RGBColor {
        guard index >= 0 else { return RGBColor(hex: 0x999999) }
        let base = qualitative[index % qualitative.count]
        switch (index / qualitative.count) % 3 {
        case 1: return base.mixed(with: .white, 0.45)
        case 2: return base.mixed(with: .black, 0.4)
        default: return base
        }
    }
}
