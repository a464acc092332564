import CLI

MRGTrain.main()
