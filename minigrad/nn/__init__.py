"""Neural-network building blocks, named as in ``torch.nn``."""
from .containers import MLP, Sequential
from .layers import Dropout, Linear, ReLU, Sigmoid, Tanh
from .module import Module, Parameter
from .normalization import BatchNorm1d, LayerNorm
from . import utils

__all__ = ["Module", "Parameter", "Linear", "ReLU", "Tanh", "Sigmoid", "Dropout", "BatchNorm1d", "LayerNorm",
           "Sequential", "MLP", "utils"]
