import Tensor
print(Tensor.zeros([2]))
