import parsl
import numpy as np
from parsl.config import Config

parsl.load(Config())
print(np.zeros(3))
