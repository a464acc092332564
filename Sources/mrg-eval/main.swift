import CLI

lineBufferStandardOutput()
MRGEval.mainAcrossRanks()
