import ArgumentParser
import XCTest

@testable import CLI

/// Options checked when the command line is parsed, before any corpus is generated or read.
final class CommandValidationTests: XCTestCase {
    func testLanguageModelDepthIsCheckedAtParse() throws {
        XCTAssertEqual(try VQATrain.parse(["--layers", "3"]).model.layers, 3)
        for (command, option) in [(VQATrain.self as ParsableCommand.Type, "--layers"), (AblateDownstream.self, "--vqa-layers")] {
            for bad in ["0", "13"] {
                XCTAssertThrowsError(try command.parse([option, bad]), "\(option) \(bad)") { error in
                    XCTAssertTrue(command.message(for: error).contains("\(option) must be 1...12, got \(bad)"), command.message(for: error))
                }
            }
        }
    }

    func testVQAImageSizeIsCheckedAtParse() throws {
        XCTAssertEqual(try VQATrain.parse(["--image-size", "192"]).model.imageSize, 192)
        for bad in ["100", "16", "528"] {
            XCTAssertThrowsError(try VQATrain.parse(["--image-size", bad]), bad) { error in
                XCTAssertTrue(
                    VQATrain.message(for: error).contains("--image-size must be a multiple of 16 in 32...512, got \(bad)"),
                    VQATrain.message(for: error))
            }
        }
    }

    func testAutoencoderPretrainingEpochsAreCheckedAtParse() throws {
        XCTAssertEqual(try VQATrain.parse(["--autoencoder-pretrain", "50"]).pretraining.autoencoderPretrain, 50)
        XCTAssertThrowsError(try VQATrain.parse(["--autoencoder-pretrain=-1"])) { error in
            XCTAssertTrue(VQATrain.message(for: error).contains("--autoencoder-pretrain must be >= 0, got -1"), VQATrain.message(for: error))
        }
    }

    func testValidationGroupingIsForVQARADOnly() throws {
        XCTAssertEqual(try VQATrain.parse(["--dataset", "vqa-rad", "--data-dir", "x", "--val-grouping", "question"]).data.valGrouping, .question)
        XCTAssertThrowsError(try VQATrain.parse(["--val-grouping", "question"])) { error in
            XCTAssertTrue(VQATrain.message(for: error).contains("--val-grouping applies to --dataset vqa-rad"), VQATrain.message(for: error))
        }
        XCTAssertTrue(try VQAEval.parse(["--dataset", "vqa-rad", "--choices"]).choices)
    }

    func testRegularisationIsCheckedAtParse() throws {
        let parsed = try VQATrain.parse(["--dropout", "0.3", "--weight-decay", "0.05"])
        XCTAssertEqual(parsed.model.dropout, 0.3)
        XCTAssertEqual(parsed.training.weightDecay, 0.05)
        for (args, message) in [
            (["--dropout", "1"], "--dropout must be in [0, 1), got 1.0"), (["--weight-decay=-0.1"], "--weight-decay must be >= 0, got -0.1")
        ] {
            XCTAssertThrowsError(try VQATrain.parse(args)) { error in
                XCTAssertTrue(VQATrain.message(for: error).contains(message), VQATrain.message(for: error))
            }
        }
    }

    func testLanguageModelWidthIsCheckedAtParse() throws {
        XCTAssertEqual(try VQATrain.parse(["--d-model", "256"]).model.dModel, 256)
        for bad in ["130", "8", "2048"] {
            XCTAssertThrowsError(try VQATrain.parse(["--d-model", bad]), bad) { error in
                XCTAssertTrue(
                    VQATrain.message(for: error).contains("--d-model must be a multiple of 4 in 16...1024, got \(bad)"), VQATrain.message(for: error))
            }
        }
    }

    /// Fewer vision widths mean fewer stride-2 stages, so a finer grid and a smaller image-size step.
    func testVisionChannelsAreCheckedAtParse() throws {
        XCTAssertEqual(try VQATrain.parse(["--vision-channels", "32, 64,128"]).model.parsedVisionChannels(), [32, 64, 128])
        XCTAssertEqual(try VQATrain.parse(["--vision-channels", "32,64,128", "--image-size", "120"]).model.imageSize, 120)
        for (arguments, message) in [
            (["--vision-channels", "32,abc"], "--vision-channels must be 2 to 6 comma-separated widths"),
            (["--vision-channels", "32"], "--vision-channels must be 2 to 6 comma-separated widths"),
            (["--vision-channels", "32,60"], "each a multiple of 8 up to 1024, got '32,60'"),
            (["--vision-channels", "32,64,128", "--image-size", "100"], "--image-size must be a multiple of 8 in 32...512, got 100"),
            (["--vision-channels", "8,8,8,8,8,8", "--image-size", "64"], "leaves a patch grid under 2 x 2")
        ] {
            XCTAssertThrowsError(try VQATrain.parse(arguments), "\(arguments)") { error in
                XCTAssertTrue(VQATrain.message(for: error).contains(message), VQATrain.message(for: error))
            }
        }
    }

    func testLocalizationLossWeightIsCheckedAtParse() throws {
        XCTAssertEqual(try VQATrain.parse(["--localization-loss", "0.5"]).pretraining.localizationLoss, 0.5)
        XCTAssertEqual(try VQATrain.parse([]).pretraining.localizationLoss, 0, "off unless asked for")
        for bad in ["-1", "nan"] {
            XCTAssertThrowsError(try VQATrain.parse(["--localization-loss=\(bad)"]), bad) { error in
                XCTAssertTrue(VQATrain.message(for: error).contains("--localization-loss must be a weight >= 0"), VQATrain.message(for: error))
            }
        }
        XCTAssertEqual(try VQATrain.parse(["--localization-loss", "1", "--localization-pretrain", "30"]).pretraining.localizationPretrain, 30)
        for arguments in [["--localization-pretrain", "30"], ["--localization-loss", "1", "--localization-pretrain=-2"]] {
            XCTAssertThrowsError(try VQATrain.parse(arguments), "\(arguments)") { error in
                XCTAssertTrue(
                    VQATrain.message(for: error).contains("--localization-pretrain must be >= 0 and needs --localization-loss > 0"),
                    VQATrain.message(for: error))
            }
        }
        let withData = try VQATrain.parse(["--localization-loss", "1", "--localization-pretrain", "10", "--localization-pretrain-data", "pre"])
        XCTAssertEqual(withData.pretraining.localizationPretrainData, "pre")
        XCTAssertThrowsError(try VQATrain.parse(["--localization-loss", "1", "--localization-pretrain-data", "pre"])) { error in
            XCTAssertTrue(
                VQATrain.message(for: error).contains("--localization-pretrain-data needs --localization-pretrain > 0"), VQATrain.message(for: error))
        }
    }

    func testHintThresholdsAndSplitAreCheckedAtParse() throws {
        XCTAssertEqual(try HintsCommand.parse(["--grounder", "g", "--thresholds", "0.3, 0.45"]).levels(), [0.3, 0.45])
        for (arguments, message) in [
            (["--thresholds", "0.3,abc"], "--thresholds: 'abc' is not a number in [0, 1]"),
            (["--thresholds", "1.5"], "--thresholds: '1.5' is not a number in [0, 1]"),
            (["--split", "train"], "The value 'train' is invalid for '--split <split>'")
        ] {
            XCTAssertThrowsError(try HintsCommand.parse(["--grounder", "g"] + arguments)) { error in
                XCTAssertTrue(HintsCommand.message(for: error).contains(message), HintsCommand.message(for: error))
            }
        }
    }

    func testGroundTrainOptionsAreCheckedAtParse() throws {
        let fine = try GroundTrain.parse(["--init-from", "runs/g", "--repeat-threshold", "0.3"])
        XCTAssertEqual(fine.model.initFrom, "runs/g")
        XCTAssertEqual(fine.training.repeatThreshold, 0.3)
        XCTAssertEqual(
            try GroundTrain.parse(["--init-from", "runs/g", "--image-size", "320"]).model.imageSize, 320, "fine-tuning at another input size")
        XCTAssertEqual(try GroundTrain.parse(["--strides", "4,8,16,32"]).model.levels, [4, 8, 16, 32])
        for (arguments, message) in [
            (["--repeat-threshold", "1.5"], "--repeat-threshold must be in [0, 1], got 1.5"),
            (["--init-from", "g", "--strides", "4,8,16,32"], "--init-from keeps its run's architecture"),
            (["--init-from", "g", "--resume", "--out", "r"], "--init-from starts a new run and --resume continues one"),
            (["--strides", "8,32"], "--strides must be the last strides of the encoder's stages"),
            (["--experts", "both"], "The value 'both' is invalid for '--experts <experts>'. Please provide one of 'per-modality' and 'shared'")
        ] {
            XCTAssertThrowsError(try GroundTrain.parse(arguments), "\(arguments)") { error in
                XCTAssertTrue(GroundTrain.message(for: error).contains(message), GroundTrain.message(for: error))
            }
        }
    }
}
