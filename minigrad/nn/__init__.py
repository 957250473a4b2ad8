"""Neural-network building blocks, named as in ``torch.nn``."""
from .containers import MLP, Sequential
from .layers import Dropout, Linear, ReLU, Sigmoid, Tanh
from .module import Module, Parameter
from . import utils

__all__ = ["Module", "Parameter", "Linear", "ReLU", "Tanh", "Sigmoid", "Dropout", "Sequential", "MLP", "utils"]
