import Foundation
import Formats
import Networks

/// The images of an image-folder probe set, decoded (libpng, libjpeg-turbo) and
/// preprocessed into a `[samples, channels, height, width]` float32 tensor.
enum ImageFolder {
    static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Reads the folder: its images (and classes) from the labels CSV, else from its
    /// sub-folders (one class each, sorted by name), else the images in it, unlabelled.
    static func read(_ settings: ProbeSetSpec.ImageFolderSettings, folder: URL, channels: Int, height: Int, width: Int,
                     samples: Int?, confinement: PathConfinement) throws -> (inputs: Tensor, labels: [Int]?, classNames: [Int: String]) {
        guard channels == 1 || channels == 3 else {
            throw ProbeError.invalidProbeSet(file: folder.path, problem: "images decode to 1 or 3 channels; the model takes \(channels)")
        }
        guard settings.mean.count == channels else {
            throw ProbeError.invalidProbeSet(file: folder.path, problem: "mean and std give \(settings.mean.count) channels; the model takes \(channels)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ProbeError.invalidProbeSet(file: folder.path, problem: "no such folder (the images of the probe set)")
        }
        var (files, labels, classNames) = try listing(settings, folder: folder, confinement: confinement)
        guard !files.isEmpty else { throw ProbeError.invalidProbeSet(file: folder.path, problem: "holds no PNG or JPEG image") }
        if let samples, samples < files.count {
            files = Array(files.prefix(samples))
            labels = labels.map { Array($0.prefix(samples)) }
        }
        let (cropHeight, cropWidth) = settings.crop.map { ($0[0], $0[1]) } ?? (height, width)
        var values: [Float] = []
        values.reserveCapacity(files.count * channels * cropHeight * cropWidth)
        for file in files {
            values += try preprocess(ImageFile.read(file, channels: channels), settings: settings, height: cropHeight, width: cropWidth, file: file)
        }
        return (Tensor(shape: [files.count, channels, cropHeight, cropWidth], elements: values), labels, classNames)
    }

    static func isImage(_ url: URL) -> Bool { extensions.contains(url.pathExtension.lowercased()) }

    /// The images (every one checked to lie in an allowed folder, symbolic links followed),
    /// their labels and class names.
    static func listing(_ settings: ProbeSetSpec.ImageFolderSettings, folder: URL,
                        confinement: PathConfinement) throws -> ([URL], [Int]?, [Int: String]) {
        let listed = try unconfinedListing(settings, folder: folder, confinement: confinement)
        for file in listed.0 { try confinement.check(file) }
        return listed
    }

    private static func unconfinedListing(_ settings: ProbeSetSpec.ImageFolderSettings, folder: URL,
                                          confinement: PathConfinement) throws -> ([URL], [Int]?, [Int: String]) {
        let manager = FileManager.default
        if let csv = settings.labels {
            let url = try confinement.url(csv, relativeTo: folder)
            let text = try SmallFile.text(url, within: .labels)
            var rows: [(URL, String)] = []
            for (number, line) in TextLines.split(text).enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard fields.count == 2, !fields[0].isEmpty, !fields[1].isEmpty else {
                    throw ProbeError.invalidProbeSet(file: url.path, problem: "line \(number + 1) is not FILE,LABEL")
                }
                if number == 0 && !isImage(URL(fileURLWithPath: fields[0])) { continue }  // a header
                rows.append((folder.appendingPathComponent(fields[0]), fields[1]))
            }
            let names = rows.map(\.1)
            if names.allSatisfy({ Int($0) != nil }) {
                let labels = names.compactMap { Int($0) }
                return (rows.map(\.0), labels, Dictionary(Set(labels).map { ($0, String($0)) }) { a, _ in a })
            }
            let classes = Array(Set(names)).sorted()
            let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
            return (rows.map(\.0), names.map { index[$0]! }, Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($0, $1) }))
        }
        let entries = try manager.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isDirectoryKey])
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let subfolders = entries.filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
        let images = entries.filter(isImage)
        guard images.isEmpty, !subfolders.isEmpty else { return (images, nil, [:]) }
        var files: [URL] = [], labels: [Int] = [], classNames: [Int: String] = [:]
        for (label, subfolder) in subfolders.enumerated() {
            classNames[label] = subfolder.lastPathComponent
            let members = try manager.contentsOfDirectory(at: subfolder, includingPropertiesForKeys: nil)
                .filter(isImage).sorted { $0.lastPathComponent < $1.lastPathComponent }
            files += members
            labels += Array(repeating: label, count: members.count)
        }
        return (files, labels, classNames)
    }

    /// `[channels, height, width]` values of one image: scaled to [0, 1], the shorter side
    /// resized to `resize` (or the whole image to the crop), centre-cropped, normalised.
    static func preprocess(_ image: DecodedImage, settings: ProbeSetSpec.ImageFolderSettings, height: Int, width: Int,
                           file: URL) throws -> [Float] {
        let channels = image.channels
        var (h, w) = (image.height, image.width)
        var planes = [Float](repeating: 0, count: channels * h * w)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<channels { planes[(c * h + y) * w + x] = Float(image.pixels[(y * w + x) * channels + c]) / 255 }
            }
        }
        var (targetHeight, targetWidth) = (height, width)
        if let shorter = settings.resize {
            // torchvision's Resize(int): the shorter side becomes `shorter`, the other keeps the ratio.
            if h <= w {
                (targetHeight, targetWidth) = (shorter, Int(Double(shorter) * Double(w) / Double(h)))
            } else {
                (targetHeight, targetWidth) = (Int(Double(shorter) * Double(h) / Double(w)), shorter)
            }
        }
        if (targetHeight, targetWidth) != (h, w) {
            planes = Stimuli.resize(planes, planes: channels, height: h, width: w, to: targetHeight, targetWidth)
            (h, w) = (targetHeight, targetWidth)
        }
        guard h >= height, w >= width else {
            throw ProbeError.invalidProbeSet(file: file.path, problem: "is \(w)×\(h) after resizing, smaller than the \(width)×\(height) crop")
        }
        let top = Int((Double(h - height) / 2).rounded()), left = Int((Double(w - width) / 2).rounded())
        var result = [Float](repeating: 0, count: channels * height * width)
        for c in 0..<channels {
            let mean = Float(settings.mean[c]), std = Float(settings.std[c])
            for y in 0..<height {
                for x in 0..<width {
                    result[(c * height + y) * width + x] = (planes[(c * h + y + top) * w + x + left] - mean) / std
                }
            }
        }
        return result
    }
}
