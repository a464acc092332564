import CLI

lineBufferStandardOutput()
MedGLIPCommand.mainAcrossRanks()
