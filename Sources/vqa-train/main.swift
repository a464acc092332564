import CLI

lineBufferStandardOutput()

VQATrain.main()
