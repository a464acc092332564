import Datasets
import Foundation
import Imaging
import Tensor

/// Mutation fuzzing of the loaders users feed files to: PNG and JPEG images, COCO, SLAKE, VQA-RAD
/// and R2Gen JSON, VOC XML and safetensors checkpoints. Each input is a valid seed file mutated
/// (bit flips, boundary integers spliced in, bytes inserted, removed, repeated or cut off, numbers
/// in the text replaced by extreme ones) and read by the real loader. A loader may reject an input
/// with an error; a trap ends the process, which is the failure this run exists to find.
public struct LoaderFuzzer {
    public struct Report: Sendable {
        /// Per loader: inputs tried and inputs rejected with an error.
        public var tried: [String: Int] = [:], rejected: [String: Int] = [:]
        public var inputs: Int { tried.values.reduce(0, +) }
        /// Peak resident memory of the process so far, MB.
        public var peakResidentMB = 0.0
    }

    let workDir: URL
    let rng: RandomGenerator
    let seeds: [(loader: Loader, bytes: Data)]

    enum Loader: String, CaseIterable {
        case png, jpeg, coco, slake, vqaRAD = "vqa-rad", r2gen, voc, safetensors
        var isText: Bool { ![.png, .jpeg, .safetensors].contains(self) }
    }

    public init(seed: UInt64, workDir: URL) throws {
        self.workDir = workDir
        rng = RandomGenerator(seed: seed)
        try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
        seeds = try Loader.allCases.map { ($0, try Self.seedFile($0, in: workDir)) }
        for loader in Loader.allCases {
            try FileManager.default.createDirectory(at: workDir.appendingPathComponent(loader.rawValue), withIntermediateDirectories: true)
        }
    }

    /// Runs `inputs` mutated files through the loaders, round robin; `progress` every 10,000.
    public func run(inputs: Int, progress: ((Report) -> Void)? = nil) throws -> Report {
        var report = Report()
        for i in 0..<inputs {
            let (loader, seed) = seeds[i % seeds.count]
            let bytes = mutate(seed, text: loader.isText)
            report.tried[loader.rawValue, default: 0] += 1
            do { try load(loader, bytes) } catch { report.rejected[loader.rawValue, default: 0] += 1 }
            if (i + 1) % 10_000 == 0 { report.peakResidentMB = Self.peakResidentMB(); progress?(report) }
        }
        report.peakResidentMB = Self.peakResidentMB()
        return report
    }

    // MARK: loading

    func load(_ loader: Loader, _ bytes: Data) throws {
        let dir = workDir.appendingPathComponent(loader.rawValue)
        func file(_ name: String) throws -> URL {
            let url = dir.appendingPathComponent(name)
            try bytes.write(to: url)
            return url
        }
        switch loader {
        case .png: _ = try ImageIO.read(try file("image.png"))
        case .jpeg: _ = try ImageIO.read(try file("image.jpg"))
        case .coco: _ = try COCO.read(try file("train.json"))
        case .slake: _ = try file("train.json"); _ = try SLAKE.read(root: dir, split: "train")
        case .vqaRAD: _ = try file("trainset.json"); _ = try VQARAD.read(root: dir, split: "train")
        case .r2gen: _ = try R2Gen.read(try file("annotation.json"))
        case .voc: _ = try VOC.parse(try file("1.xml"))
        case .safetensors: _ = try SafeTensors.read(try file("model.safetensors"))
        }
    }

    // MARK: mutation

    static let boundaryIntegers: [UInt32] = [0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x4000_0000]
    static let extremeNumbers = [
        "-1", "0", "1e308", "-1e308", "9223372036854775807", "4611686018427387904", "-9223372036854775808",
        "18446744073709551616", "1.5", "NaN", "\"\"", "null", "[]", "{}", "true"
    ]

    func mutate(_ seed: Data, text: Bool) -> Data {
        var b = [UInt8](seed)
        for _ in 0..<(1 + rng.int(4)) {
            if text && rng.int(2) == 0 { b = mutateNumber(b); continue }
            guard !b.isEmpty else { b = [UInt8(rng.int(256))]; continue }
            let at = rng.int(b.count)
            switch rng.int(7) {
            case 0: b[at] ^= UInt8(1 << rng.int(8))
            case 1: b[at] = [0, 0xFF, 0x7F, 0x80, 0x22, 0x7B, 0x5B, 0x3C][rng.int(8)]
            case 2:
                var v = Self.boundaryIntegers[rng.int(Self.boundaryIntegers.count)]
                if rng.int(2) == 0 { v = v.byteSwapped }
                for k in 0..<4 where at + k < b.count { b[at + k] = UInt8(truncatingIfNeeded: v >> (24 - 8 * k)) }
            case 3: b.insert(contentsOf: (0..<(1 + rng.int(16))).map { _ in UInt8(rng.int(256)) }, at: at)
            case 4: b.removeSubrange(at..<min(b.count, at + 1 + rng.int(64)))
            case 5: b.removeSubrange(at...)
            default: b.insert(contentsOf: b[at..<min(b.count, at + 1 + rng.int(256))], at: rng.int(b.count))
            }
        }
        return Data(b)
    }

    /// Replaces one number (or the value after a colon) in JSON or XML text with an extreme one.
    func mutateNumber(_ b: [UInt8]) -> [UInt8] {
        let digits = b.indices.filter { b[$0] >= 0x30 && b[$0] <= 0x39 && ($0 == 0 || !(b[$0 - 1] >= 0x30 && b[$0 - 1] <= 0x39)) }
        guard !digits.isEmpty else { return b }
        let start = digits[rng.int(digits.count)]
        var end = start
        while end < b.count, (b[end] >= 0x30 && b[end] <= 0x39) || b[end] == 0x2E { end += 1 }
        var out = b
        out.replaceSubrange(start..<end, with: Array(Self.extremeNumbers[rng.int(Self.extremeNumbers.count)].utf8))
        return out
    }

    // MARK: seeds

    static func seedFile(_ loader: Loader, in dir: URL) throws -> Data {
        switch loader {
        case .png, .jpeg:
            var pixels = [Float](repeating: 0, count: 3 * 12 * 10)
            for i in pixels.indices { pixels[i] = Float(i % 17) / 16 }
            let url = dir.appendingPathComponent(loader == .png ? "seed.png" : "seed.jpg")
            let image = Image(width: 12, height: 10, channels: 3, pixels: pixels)
            if loader == .png { try ImageIO.writePNG(image, to: url) } else { try ImageIO.writeJPEG(image, to: url) }
            return try Data(contentsOf: url)
        case .coco:
            return Data(
                #"""
                {"images": [{"id": 1, "file_name": "a.png", "width": 64, "height": 48, "modality": "CT"},
                            {"id": 2, "file_name": "b.png", "width": 32, "height": 32}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [4, 5, 20, 10], "area": 200, "iscrowd": 0},
                                 {"id": 2, "image_id": 2, "category_id": 2, "bbox": [1.5, 2, 3, 4], "area": 12, "iscrowd": 0}],
                 "categories": [{"id": 1, "name": "nodule"}, {"id": 2, "name": "liver", "supercategory": "organ"}]}
                """#.utf8)
        case .slake:
            return Data(
                #"""
                [{"img_id": 1, "img_name": "xmlab1/source.jpg", "question": "Is the lung healthy?", "answer": "No", "q_lang": "en",
                  "location": "Lung", "modality": "X-Ray", "answer_type": "CLOSED", "base_type": "vqa", "content_type": "Abnormality",
                  "triple": ["vhead", "_", "_"], "qid": 7},
                 {"img_id": 2, "img_name": "xmlab2/source.jpg", "question": "Where is the liver?", "answer": "Left", "q_lang": "en",
                  "location": "Abdomen", "modality": "CT", "answer_type": "OPEN", "content_type": "Position", "qid": 8}]
                """#.utf8)
        case .vqaRAD:
            return Data(
                #"""
                [{"qid": 1, "image_name": "synpic1.jpg", "image_organ": "CHEST", "answer": "Yes", "answer_type": "CLOSED", "question_type": "PRES",
                  "question": "Is there a pneumothorax?", "phrase_type": "freeform"},
                 {"qid": 2, "image_name": "synpic2.jpg", "image_organ": "HEAD", "answer": 3, "answer_type": "OPEN", "question_type": "COUNT",
                  "question": "How many lesions?", "phrase_type": "para"}]
                """#.utf8)
        case .r2gen:
            return Data(
                #"""
                {"train": [{"id": "CXR1_1_IM-0001", "report": "The heart is normal in size. No effusion.",
                            "image_path": ["CXR1/0.png", "CXR1/1.png"], "split": "train"}],
                 "val": [{"id": "CXR2", "report": "No acute disease.", "image_path": ["CXR2/0.png", "CXR2/1.png"], "split": "val"}],
                 "test": [{"id": 3, "report": "Mild cardiomegaly.", "image_path": ["CXR3/0.png"], "split": "test"}]}
                """#.utf8)
        case .voc:
            return Data(
                """
                <annotation><folder>BCCD</folder><filename>1.jpg</filename><size><width>640</width><height>480</height><depth>3</depth></size>
                <object><name>RBC</name><difficult>0</difficult><bndbox><xmin>10</xmin><ymin>20</ymin><xmax>110</xmax><ymax>90</ymax></bndbox>\
                </object>
                <object><name>WBC</name><difficult>1</difficult><bndbox><xmin>300</xmin><ymin>200</ymin><xmax>420</xmax><ymax>330</ymax></bndbox>\
                </object>
                </annotation>
                """.utf8)
        case .safetensors:
            let url = dir.appendingPathComponent("seed.safetensors")
            let tensors = [("layer.weight", Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])), ("layer.bias", Tensor(shape: [2], data: [0, 1]))]
            try SafeTensors.write(tensors, metadata: ["epoch": "3"], to: url)
            return try Data(contentsOf: url)
        }
    }

    static func peakResidentMB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // Linux reports kilobytes
    }
}
