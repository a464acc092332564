// Grounds phrases in one image with a trained Med-GLIP run and turns the boxes into what the
// downstream models read (spatial hint sentences, region boxes in [0, 1] image coordinates),
// through the library targets alone: no command-line layer.
//
//   swift run -c release ground-and-inject RUNDIR IMAGE "nodule. pleural effusion. heart." [MIN_SCORE [MODALITY]]
import Foundation
import Grounding
import Imaging
import Injection

let arguments = CommandLine.arguments
let minScore = arguments.count >= 5 ? Float(arguments[4]) : 0.3
guard (4...6).contains(arguments.count), let minScore, (0...1).contains(minScore) else {
    FileHandle.standardError.write(
        Data("usage: ground-and-inject RUNDIR IMAGE \"phrase. phrase.\" [MIN_SCORE (0...1, default 0.3) [MODALITY]]\n".utf8))
    exit(2)
}
do {
    let grounder = try Grounder(runFolder: URL(fileURLWithPath: arguments[1]))
    let image = try ImageIO.read(URL(fileURLWithPath: arguments[2]))
    let modality = arguments.count == 6 ? arguments[5] : (grounder.modalities.contains("X-ray") ? "X-ray" : grounder.modalities[0])
    // The best few detections, as the injector keeps them (its top-k and score threshold).
    let regions = try grounder.predict(image: image, prompt: arguments[3], modality: modality)
        .filter { $0.score >= minScore }.prefix(8)
        .map { GroundedRegion(phrase: $0.label, score: $0.score, box: $0.box) }
    print("\(regions.count) region(s) with score >= \(minScore) (\(modality) expert)")
    for r in regions {
        let b = r.normalized(width: image.width, height: image.height).box
        print(String(format: "  %@ %.2f  box [%.3f, %.3f, %.3f, %.3f] of the image", r.phrase, r.score, b.x1, b.y1, b.x2, b.y2))
    }
    print("hints:")
    for sentence in try SpatialHints(named: "chest").sentences(for: regions, imageWidth: image.width, imageHeight: image.height) {
        print("  " + sentence)
    }
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}
