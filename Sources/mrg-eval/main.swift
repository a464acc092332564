import CLI

MRGEval.main()
