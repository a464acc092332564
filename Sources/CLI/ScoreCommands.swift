import ArgumentParser

/// `medglip score ...`: metrics that reproduce their reference implementations.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score predictions with metrics that match their references (pycocoevalcap, pycocotools, CheXpert rules, LLaVA-Med).",
        subcommands: [ScoreNLG.self, ScoreCE.self, ScoreVQA.self, ScoreCOCO.self])
}
