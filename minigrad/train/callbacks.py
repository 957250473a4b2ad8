r"""Callbacks: small objects that watch (and may steer) :func:`minigrad.train.fit`.

A callback overrides any of five hooks. The trainer calls them in this order::

    on_train_begin(trainer)
    for each epoch:
        on_epoch_begin(trainer, epoch)
        for each batch:  forward, backward, optimizer step, ...
            on_batch_end(trainer, step, logs)     # logs: loss, lr, grad_norm, update_ratio, epoch, batch
        validation, scheduler step
        on_epoch_end(trainer, epoch, logs)        # logs: the History.epochs row of this epoch
    on_train_end(trainer)

Setting ``trainer.stop_training = True`` in any hook ends training after the
current batch (in ``on_batch_end``) or the current epoch (in ``on_epoch_end``).
The ``trainer`` exposes ``model``, ``optimizer``, ``scheduler``, ``history``,
``epoch``, ``global_step``, ``train_loader``, ``val_loader`` and ``epochs``.

Callbacks that carry state across epochs implement ``state_dict()`` /
``load_state_dict()`` so that a :class:`~minigrad.train.ModelCheckpoint`
resume continues exactly where the run stopped.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

__all__ = ["Callback", "EarlyStopping", "TerminateOnNaN"]


class Callback:
    """Base class: every hook does nothing; override the ones you need.

    Example
    -------
    >>> class PrintLoss(Callback):
    ...     def on_epoch_end(self, trainer, epoch, logs):
    ...         print(epoch, logs["train_loss"])
    """

    #: Callbacks with ``run_last = True`` (checkpoints) get their hooks after all others,
    #: so the state they save includes what the other callbacks did in the same epoch.
    run_last = False

    def on_train_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer, epoch):
        pass

    def on_batch_end(self, trainer, step, logs):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_train_end(self, trainer):
        pass

    def state_dict(self):
        """State to save in a checkpoint (plain Python values and numpy arrays)."""
        return {}

    def load_state_dict(self, state):
        """Restore what :meth:`state_dict` returned."""


def _resolve_mode(mode, monitor, cls):
    if mode not in ("min", "max", "auto"):
        raise ValueError(f"{cls}: mode must be 'min', 'max' or 'auto', got {mode!r}")
    if mode == "auto":
        # Keras' rule: accuracy-like quantities are maximised, everything else minimised.
        mode = "max" if any(s in monitor for s in ("acc", "auc", "f1", "r2", "precision", "recall")) else "min"
    return mode


def _monitored_value(logs, monitor, cls):
    if monitor not in logs:
        raise KeyError(f"{cls}: monitored quantity {monitor!r} is not in the epoch logs; "
                       f"available: {sorted(logs)}")
    return float(logs[monitor])


class EarlyStopping(Callback):
    r"""Stop training when a monitored quantity has stopped improving; restore the best weights.

    An epoch *improves* when :math:`v < v_\text{best} - \delta` (``mode='min'``) or
    :math:`v > v_\text{best} + \delta` (``mode='max'``), with :math:`\delta` = ``min_delta``.
    After ``patience`` epochs without improvement training stops. Early stopping is a
    regulariser: it picks the number of epochs on held-out data (Prechelt 1998,
    "Early Stopping — But When?").

    Parameters
    ----------
    monitor : str
        A key of the epoch logs (``'val_loss'``, ``'val_accuracy'``, ``'train_loss'``...).
    min_delta : float
        Minimum change that counts as an improvement.
    patience : int
        Epochs without improvement before stopping.
    mode : {'auto', 'min', 'max'}
        'auto' maximises accuracy-like names and minimises the rest.
    restore_best_weights : bool
        At the end of training, load the weights of the best epoch (default True,
        unlike Keras, because that is nearly always what a learner wants).
    baseline : float or None
        Training stops if the quantity does not improve on this value within ``patience`` epochs.

    Example
    -------
    >>> cb = EarlyStopping(monitor="val_loss", patience=3)        # doctest: +SKIP
    >>> history = fit(model, loss_fn, opt, train, 100, val_loader=val, callbacks=[cb])  # doctest: +SKIP
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=3, mode="auto",
                 restore_best_weights=True, baseline=None, verbose=False):
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be a non-negative int, got {patience!r}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        self.monitor = monitor
        self.min_delta = float(min_delta)
        self.patience = patience
        self.mode = _resolve_mode(mode, monitor, "EarlyStopping")
        self.restore_best_weights = bool(restore_best_weights)
        self.baseline = baseline
        self.verbose = verbose
        self._reset()

    def _reset(self):
        self.wait = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        if self.baseline is not None:
            self.best = float(self.baseline)
        self.best_epoch = None
        self.best_weights = None
        self.stopped_epoch = None

    def _improved(self, value):
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, trainer):
        if trainer.epoch == 0:          # a fresh run; a resumed run keeps the loaded state
            self._reset()

    def on_epoch_end(self, trainer, epoch, logs):
        value = _monitored_value(logs, self.monitor, "EarlyStopping")
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = trainer.model.state_dict()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            if self.verbose:
                print(f"EarlyStopping: {self.monitor} did not improve for {self.wait} epochs "
                      f"(best {self.best:.6g} at epoch {self.best_epoch}); stopping after epoch {epoch}.")

    def on_train_end(self, trainer):
        if self.restore_best_weights and self.best_weights is not None \
                and self.best_epoch != trainer.epoch:
            trainer.model.load_state_dict(self.best_weights)
            if self.verbose:
                print(f"EarlyStopping: restored the weights of epoch {self.best_epoch}.")

    def state_dict(self):
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch,
                "best_weights": None if self.best_weights is None else dict(self.best_weights)}

    def load_state_dict(self, state):
        self.wait = int(state["wait"])
        self.best = float(state["best"])
        self.best_epoch = state["best_epoch"]
        self.stopped_epoch = state["stopped_epoch"]
        bw = state["best_weights"]
        self.best_weights = None if bw is None else {k: np.array(v) for k, v in bw.items()}


class TerminateOnNaN(Callback):
    r"""Stop at the first non-finite mini-batch loss and keep the last finite parameters.

    A loss of ``nan`` or ``inf`` means the run has diverged (learning rate too high,
    ``log(0)``, an overflow...). Continuing would only spread NaNs through every
    weight. This callback keeps a copy of the parameters after every step whose
    loss and parameters are finite; on the first non-finite loss it puts that copy
    back, sets ``trainer.stop_training`` and warns with the step number.
    The optimizer state (e.g. Adam's moments) is not rolled back.

    Attributes
    ----------
    stopped_step, stopped_epoch : int or None
        Where the non-finite loss occurred.

    Example
    -------
    >>> term = TerminateOnNaN()
    >>> fit(model, loss_fn, SGD(model.parameters(), lr=1e3), loader, 5, callbacks=[term])  # doctest: +SKIP
    RuntimeWarning: TerminateOnNaN: non-finite loss nan at step 7 (epoch 1); training stopped, ...
    >>> term.stopped_step                                                                     # doctest: +SKIP
    7
    """

    def __init__(self):
        self.stopped_step = None
        self.stopped_epoch = None
        self._good = None
        self._good_step = 0

    def on_train_begin(self, trainer):
        self.stopped_step = self.stopped_epoch = None
        self._good = trainer.model.state_dict()
        self._good_step = trainer.global_step

    def on_batch_end(self, trainer, step, logs):
        loss = logs["loss"]
        if math.isfinite(loss):
            if _params_finite(trainer.model):
                self._good = trainer.model.state_dict()
                self._good_step = step
            return
        self.stopped_step, self.stopped_epoch = step, logs.get("epoch")
        trainer.stop_training = True
        trainer.model.load_state_dict(self._good)
        warnings.warn(f"TerminateOnNaN: non-finite loss {loss} at step {step} (epoch {self.stopped_epoch}); "
                      f"training stopped, parameters restored to those after step {self._good_step}.",
                      RuntimeWarning, stacklevel=2)


def _params_finite(model):
    return all(np.isfinite(p.data).all() for p in model.parameters())
