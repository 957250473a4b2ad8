"""Training loop, callbacks, checkpoints and loggers (``minigrad.train``).

>>> from minigrad.train import fit, accuracy, EarlyStopping        # doctest: +SKIP
>>> history = fit(model, F.cross_entropy, opt, train_loader, 20,   # doctest: +SKIP
...               val_loader=val_loader, metrics=[accuracy], callbacks=[EarlyStopping()])
"""
from .callbacks import Callback, EarlyStopping, TerminateOnNaN
from .checkpoint import ModelCheckpoint, load_checkpoint, save_checkpoint
from .fit import evaluate, fit
from .trainer import Trainer
from .history import History
from .loggers import CSVLogger, TensorBoardLogger
from .metrics import accuracy, mean_absolute_error, mean_squared_error, r2_score, top_k_accuracy
from ..optim.step_stats import StepStats, measure_step

__all__ = [
    "fit", "evaluate", "Trainer", "History", "StepStats", "measure_step",
    "Callback", "EarlyStopping", "TerminateOnNaN", "ModelCheckpoint", "CSVLogger", "TensorBoardLogger",
    "save_checkpoint", "load_checkpoint",
    "accuracy", "top_k_accuracy", "mean_squared_error", "mean_absolute_error", "r2_score",
]
