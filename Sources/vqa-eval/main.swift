import CLI

VQAEval.main()
