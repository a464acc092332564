import CLI

VQATrain.main()
