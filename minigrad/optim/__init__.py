"""Optimizers (``torch.optim``): the update rules, each run by one numba-fused kernel.

>>> from minigrad import nn, optim
>>> model = nn.Linear(3, 1, rng=0)
>>> opt = optim.Adam(model.parameters(), lr=1e-3)

Every class mirrors its ``torch.optim`` namesake (names, keyword arguments,
defaults, ``state_dict`` layout); :func:`flatten_parameters` packs a model into
one buffer so that a whole group is updated by a single kernel call.
Nothing is compiled at import: the kernels compile on first use and are
cached on disk.  Learning-rate schedules live in :mod:`minigrad.optim.lr_scheduler`.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .flat import FlatParameters, flatten_parameters
from .lamb import LAMB
from .lars import LARS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD
from .step_stats import StepStats, measure_step

__all__ = [
    "Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax",
    "NAdam", "RAdam", "Adafactor", "LARS", "LAMB",
    "flatten_parameters", "FlatParameters", "lr_scheduler", "measure_step", "StepStats",
]
