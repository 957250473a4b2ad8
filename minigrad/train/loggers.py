r"""Loggers: callbacks that write the training curves to files while training runs.

* :class:`CSVLogger` appends one row per epoch to a CSV file (like Keras' ``CSVLogger``),
  so a long run can be watched with ``tail -f`` or reloaded with pandas.
* :class:`TensorBoardLogger` writes real TensorBoard event files (through
  `tensorboardX <https://github.com/lanpa/tensorboardX>`_): per-step loss,
  learning rate, gradient norm and update ratio, per-epoch losses and metrics,
  and histograms of the weights and their gradients. Open them with
  ``tensorboard --logdir runs``.
"""
from __future__ import annotations

import csv
import math
import os

from .callbacks import Callback

__all__ = ["CSVLogger", "TensorBoardLogger"]


class CSVLogger(Callback):
    """Write the epoch rows of the :class:`~minigrad.train.History` to a CSV file as they arrive.

    Parameters
    ----------
    filename : str or PathLike
        The CSV file.
    separator : str
        Field separator.
    append : bool
        Append to an existing file (its header is kept) instead of overwriting it;
        useful when resuming from a checkpoint.

    Example
    -------
    >>> fit(model, loss_fn, opt, loader, 5, callbacks=[CSVLogger("log.csv")])   # doctest: +SKIP
    """

    def __init__(self, filename, separator=",", append=False):
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self._file = None
        self._writer = None
        self._keys = None

    def on_train_begin(self, trainer):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._keys = list(trainer.history.epochs)
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer = csv.writer(self._file, delimiter=self.separator, lineterminator="\n")
        if not exists:
            self._writer.writerow(self._keys)
            self._file.flush()

    def on_epoch_end(self, trainer, epoch, logs):
        if self._writer is None:
            raise RuntimeError("CSVLogger: on_epoch_end called before on_train_begin")
        self._writer.writerow([_fmt(logs.get(k, math.nan)) for k in self._keys])
        self._file.flush()

    def on_train_end(self, trainer):
        if self._file is not None:
            self._file.close()
        self._file = self._writer = None


def _fmt(v):
    return repr(float(v)) if isinstance(v, float) else v


def _import_tensorboardx():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as exc:     # pragma: no cover - depends on the environment
        raise ImportError("TensorBoardLogger needs the 'tensorboardX' package, which is not installed: "
                          "run `pip install tensorboardX` (it writes TensorBoard event files without "
                          "TensorFlow)") from exc
    return SummaryWriter


class TensorBoardLogger(Callback):
    """Write TensorBoard event files: step scalars, epoch scalars and weight/gradient histograms.

    Tags written:

    * every ``log_every_n_steps`` steps: ``train/loss``, ``train/lr``, ``train/grad_norm``,
      ``train/update_ratio`` (x axis: global step);
    * every epoch: ``epoch/<key>`` for each column of ``History.epochs`` except ``epoch``
      (x axis: epoch);
    * every ``histogram_freq`` epochs (0 = never): ``weights/<name>`` and ``grads/<name>``
      for each named parameter.

    Step scalars are taken from the :class:`~minigrad.train.History` at the end of
    each epoch, so the logger adds nothing to the cost of a training step.

    Parameters
    ----------
    log_dir : str or PathLike
        Directory for the event file (created if needed).
    histogram_freq : int
        Write histograms every this many epochs; 0 disables them.
    log_every_n_steps : int
        Subsampling of the per-step scalars.

    Example
    -------
    >>> tb = TensorBoardLogger("runs/mlp")                         # doctest: +SKIP
    >>> fit(model, loss_fn, opt, loader, 10, callbacks=[tb])      # doctest: +SKIP
    """

    STEP_TAGS = ("loss", "lr", "grad_norm", "update_ratio")

    def __init__(self, log_dir, histogram_freq=1, log_every_n_steps=1, flush_secs=120):
        if not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"TensorBoardLogger: histogram_freq must be an int >= 0, got {histogram_freq!r}")
        if not isinstance(log_every_n_steps, int) or log_every_n_steps < 1:
            raise ValueError(f"TensorBoardLogger: log_every_n_steps must be an int >= 1, got {log_every_n_steps!r}")
        self._SummaryWriter = _import_tensorboardx()      # fail early, with the install hint
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.log_every_n_steps = log_every_n_steps
        self.flush_secs = flush_secs
        self.writer = None
        self._next_row = 0

    def on_train_begin(self, trainer):
        self.writer = self._SummaryWriter(logdir=self.log_dir, flush_secs=self.flush_secs)
        self._next_row = trainer.history.num_steps        # on resume, earlier steps were already logged

    def _write_steps(self, trainer):
        steps = trainer.history.steps
        n = len(steps["step"])
        for i in range(self._next_row, n):
            step = steps["step"][i]
            if step % self.log_every_n_steps:
                continue
            for tag in self.STEP_TAGS:
                self.writer.add_scalar(f"train/{tag}", float(steps[tag][i]), global_step=step)
        self._next_row = n

    def on_epoch_end(self, trainer, epoch, logs):
        if self.writer is None:
            raise RuntimeError("TensorBoardLogger: on_epoch_end called before on_train_begin")
        self._write_steps(trainer)
        for key, value in logs.items():
            if key != "epoch" and isinstance(value, (int, float)) and not math.isnan(value):
                self.writer.add_scalar(f"epoch/{key}", float(value), global_step=epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for name, p in trainer.model.named_parameters():
                self.writer.add_histogram(f"weights/{name}", p.data, global_step=epoch)
                if p.grad is not None:
                    self.writer.add_histogram(f"grads/{name}", p.grad, global_step=epoch)
        self.writer.flush()

    def on_train_end(self, trainer):
        if self.writer is not None:
            self._write_steps(trainer)
            self.writer.close()
            self.writer = None
