import CLI

lineBufferStandardOutput()
MRGTrain.mainAcrossRanks()
