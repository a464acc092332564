import CLI

MedGLIPCommand.main()
