import CLI

lineBufferStandardOutput()

VQATrain.mainAcrossRanks()
