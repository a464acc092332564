import CLI

lineBufferStandardOutput()
MedGLIPCommand.main()
