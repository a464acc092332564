import CLI

lineBufferStandardOutput()

VQAEval.main()
