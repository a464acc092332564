import CLI

lineBufferStandardOutput()

VQAEval.mainAcrossRanks()
