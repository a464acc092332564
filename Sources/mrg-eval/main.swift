import CLI

lineBufferStandardOutput()
MRGEval.main()
