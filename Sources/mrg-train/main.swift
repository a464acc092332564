import CLI

lineBufferStandardOutput()
MRGTrain.main()
