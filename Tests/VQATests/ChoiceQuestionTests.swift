import Datasets
import Foundation
import Tensor
import XCTest

@testable import VQA

final class ChoiceQuestionTests: VQATestCase {
    /// The options are the words beside "or", articles and commas skipped; a question without a
    /// choice names none.
    func testOptionsAreTheWordsBesideOr() {
        XCTAssertEqual(ChoiceQuestion.options("Is this a solid or cystic lesion?"), ["solid", "cystic"])
        XCTAssertEqual(ChoiceQuestion.options("Is the contrast in the bowels or the vasculature?"), ["bowels", "vasculature"])
        XCTAssertEqual(ChoiceQuestion.options("Is this a T1 weighted, T2 weighted, or FLAIR image?"), ["weighted", "flair"])
        XCTAssertEqual(ChoiceQuestion.options("Does the liver lesion appear black, white or gray?"), ["white", "gray", "black"])
        XCTAssertEqual(ChoiceQuestion.options("Which side is the lesion on, left or right?"), ["left", "right"])
        XCTAssertEqual(ChoiceQuestion.options("Which is bigger, the aorta or the liver?"), ["aorta", "liver"])
        XCTAssertEqual(ChoiceQuestion.options("Is there a mass?"), [])
        XCTAssertEqual(ChoiceQuestion.options("Or is it?"), [], "no word before the 'or'")
    }

    /// Candidates: each option, then the training answers holding an option as a word (hyphens split).
    func testCandidatesAreAnswersHoldingAnOption() {
        let answers = ["cystic lesion", "gray matter", "non-enhanced", "no", "white matter", "yes"]
        XCTAssertEqual(
            ChoiceQuestion.candidates("Is gray or white matter highlighted?", answers: answers), ["gray", "white", "gray matter", "white matter"])
        XCTAssertEqual(ChoiceQuestion.candidates("Is the CSF enhanced or non enhanced?", answers: answers), ["enhanced", "non", "non-enhanced"])
        XCTAssertEqual(ChoiceQuestion.candidates("Is there a cystic lesion?", answers: answers), [])
    }

    /// Each row's summed answer log-probability equals the full forward pass's, for answers of
    /// different lengths in one batch (the shorter one padded).
    func testAnswerLogLikelihoodsMatchTheFullForwardPass() {
        let system = Self.tinySystem(head: .generate, questions: ["Is it solid or cystic?"], answers: ["solid", "cystic lesion"], seed: 2)
        let model = system.model
        model.eval()
        let prompt = Self.template.promptIDs(question: "Is it solid or cystic?", vocabulary: system.vocabulary, maxQuestionTokens: 12).ids
        let answers = ["solid", "cystic lesion"].map { system.vocabulary.encode($0) + [VQAVocabulary.endOfAnswer] }
        let image = model.imageTokens(Tensor.randn([1, 1, 16, 16], rng: RandomGenerator(seed: 5)))
        let v = system.vocabulary.count, p = image.shape[1]
        withNoGrad {
            let scores = model.answerLogLikelihoods(imageTokens: image, imageOf: [0, 0], prompts: [prompt, prompt], answers: answers)
            for (answer, score) in zip(answers, scores) {
                let logProbs = model.output(Self.fullHidden(model, prompt + answer, image: image)).logSoftmax(axis: -1)
                let manual = answer.indices.map { i in logProbs.data[(prompt.count - 1 + i + p - 1) * v + answer[i]] }.reduce(0, +)
                XCTAssertEqual(score, manual, accuracy: 1e-4)
            }
            XCTAssertNotEqual(scores[0], scores[1])
            // `choose` answers with the likelier candidate, and leaves a question without options alone.
            let example = { (question: String) in
                VQAExample(
                    item: VQAItem(
                        qid: "0", imageName: "a.png", imageURL: self.dir, question: question, answer: "solid", answerType: .closed, category: "ATTRIB"
                    ),
                    image: 0, prompt: Self.template.promptIDs(question: question, vocabulary: system.vocabulary, maxQuestionTokens: 12).ids,
                    answer: [], answerClass: nil)
            }
            let candidates = ["solid", "cystic", "cystic lesion"].map { system.vocabulary.encode($0) + [VQAVocabulary.endOfAnswer] }
            let all = model.answerLogLikelihoods(imageTokens: image, imageOf: [0, 0, 0], prompts: [prompt, prompt, prompt], answers: candidates)
            XCTAssertEqual(
                system.choose(example("Is it solid or cystic?"), imageTokens: image, image: 0),
                ["solid", "cystic", "cystic lesion"][VQADecoding.argmax(all[...])])
            XCTAssertNil(system.choose(example("Is it big?"), imageTokens: image, image: 0))
        }
    }

    /// The classify head picks the best-scoring answer class among the candidates, not overall.
    func testClassifyHeadChoosesAmongCandidateClasses() {
        let answers = ["cystic lesion", "no", "solid", "yes"]
        let system = Self.tinySystem(head: .classify, questions: ["Is it solid or cystic?"], answers: answers, seed: 3)
        let model = system.model
        model.eval()
        let prompt = Self.template.promptIDs(question: "Is it solid or cystic?", vocabulary: system.vocabulary, maxQuestionTokens: 12).ids
        let image = model.imageTokens(Tensor.randn([1, 1, 16, 16], rng: RandomGenerator(seed: 6)))
        // Make "yes" the overall winner, so a choice that ignored the candidates would show.
        model.output.bias!.data[system.vocabulary.answerClass("yes")!] = 50
        withNoGrad {
            let logits = model.classLogits(imageTokens: image, imageOf: [0], prompts: [prompt])
            XCTAssertEqual(VQADecoding.argmax(logits.data[...]), system.vocabulary.answerClass("yes"))
            let solid = logits.data[system.vocabulary.answerClass("solid")!], cystic = logits.data[system.vocabulary.answerClass("cystic lesion")!]
            let item = VQAItem(
                qid: "0", imageName: "a.png", imageURL: dir, question: "Is it solid or cystic?", answer: "solid", answerType: .closed,
                category: "ATTRIB")
            let example = VQAExample(item: item, image: 0, prompt: prompt, answer: [], answerClass: nil)
            XCTAssertEqual(system.choose(example, imageTokens: image, image: 0), solid > cystic ? "solid" : "cystic lesion")
        }
    }
}
