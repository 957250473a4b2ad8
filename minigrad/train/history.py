r"""The record of a training run: one row per optimizer step, one row per epoch.

:func:`minigrad.train.fit` returns a :class:`History`. It is two tables kept as
plain Python dicts of equal-length lists, so that a learner can index them,
turn them into a ``pandas.DataFrame`` or plot them without learning a new API:

* ``history.steps`` — one entry per optimizer step with keys
  ``'step'`` (global step, starting at 1), ``'epoch'`` (starting at 1),
  ``'loss'`` (the mini-batch loss), ``'lr'`` (learning rate of the first
  parameter group used for that step), ``'grad_norm'`` (global L2 norm of all
  gradients, :math:`\lVert g\rVert_2`) and ``'update_ratio'``
  (:math:`\lVert\theta_t-\theta_{t-1}\rVert_2 / \lVert\theta_{t-1}\rVert_2`,
  the relative size of the step — about ``1e-3`` is healthy, Karpathy 2016).
* ``history.epochs`` — one entry per epoch with keys ``'epoch'``,
  ``'train_loss'``, ``'val_loss'`` (NaN when there is no validation set),
  ``'time'`` (wall seconds) and, for every metric ``name``, ``'train_<name>'``
  and ``'val_<name>'``.
"""
from __future__ import annotations

import csv
import io
import math

__all__ = ["History", "STEP_KEYS", "EPOCH_KEYS"]

#: Keys of :attr:`History.steps`, in column order.
STEP_KEYS = ("step", "epoch", "loss", "lr", "grad_norm", "update_ratio")
#: Keys of :attr:`History.epochs` that are always present (metric columns follow).
EPOCH_KEYS = ("epoch", "train_loss", "val_loss", "time")


class History:
    r"""Per-step and per-epoch training curves, returned by :func:`~minigrad.train.fit`.

    Attributes
    ----------
    steps : dict[str, list]
        Equal-length lists with keys ``'step', 'epoch', 'loss', 'lr', 'grad_norm', 'update_ratio'``.
    epochs : dict[str, list]
        Equal-length lists with keys ``'epoch', 'train_loss', 'val_loss', 'time'`` and
        ``'train_<metric>'``, ``'val_<metric>'`` for each metric.

    Example
    -------
    >>> h = History(metric_names=["accuracy"])
    >>> h.record_step(1, 1, 2.3, 0.1, 4.0, 1e-3)
    >>> h.record_epoch(1, train_loss=2.3, val_loss=2.1, time=0.5,
    ...                metrics={"train_accuracy": 0.2, "val_accuracy": 0.3})
    >>> h.epochs["val_accuracy"]
    [0.3]
    """

    def __init__(self, metric_names=()):
        self.metric_names = [str(n) for n in metric_names]
        self.steps = {k: [] for k in STEP_KEYS}
        self.epochs = {k: [] for k in self._epoch_keys()}

    def _epoch_keys(self):
        keys = list(EPOCH_KEYS)
        for n in self.metric_names:
            keys += [f"train_{n}", f"val_{n}"]
        return keys

    # ------------------------------------------------------------------ recording
    def record_step(self, step, epoch, loss, lr, grad_norm, update_ratio):
        """Append one optimizer step (called by the training loop; cheap)."""
        s = self.steps
        s["step"].append(step)
        s["epoch"].append(epoch)
        s["loss"].append(loss)
        s["lr"].append(lr)
        s["grad_norm"].append(grad_norm)
        s["update_ratio"].append(update_ratio)

    def record_epoch(self, epoch, train_loss, val_loss=math.nan, time=math.nan, metrics=None):
        """Append one epoch; ``metrics`` maps ``'train_<name>'``/``'val_<name>'`` to floats.

        Missing metric columns are filled with NaN; an unknown key raises ``KeyError``.
        """
        metrics = dict(metrics or {})
        unknown = set(metrics) - set(self.epochs)
        if unknown:
            raise KeyError(f"History.record_epoch: unknown metric column(s) {sorted(unknown)}; "
                           f"known columns are {list(self.epochs)}")
        row = {"epoch": epoch, "train_loss": float(train_loss), "val_loss": float(val_loss),
               "time": float(time)}
        for key in self.epochs:
            self.epochs[key].append(row[key] if key in row else float(metrics.get(key, math.nan)))

    # ------------------------------------------------------------------ access
    def __len__(self):
        """Number of recorded epochs."""
        return len(self.epochs["epoch"])

    @property
    def num_steps(self):
        """Number of recorded optimizer steps."""
        return len(self.steps["step"])

    def last(self):
        """The last epoch row as a dict (empty dict before the first epoch)."""
        if not len(self):
            return {}
        return {k: v[-1] for k, v in self.epochs.items()}

    def __repr__(self):
        return (f"History(epochs={len(self)}, steps={self.num_steps}, "
                f"metrics={self.metric_names})")

    # ------------------------------------------------------------------ persistence
    def state_dict(self):
        """A plain dict copy (used by checkpoints)."""
        return {"metric_names": list(self.metric_names),
                "steps": {k: list(v) for k, v in self.steps.items()},
                "epochs": {k: list(v) for k, v in self.epochs.items()}}

    def load_state_dict(self, state):
        """Replace the content by ``state`` (from :meth:`state_dict`); validated before any change."""
        try:
            names = [str(n) for n in state["metric_names"]]
            steps, epochs = state["steps"], state["epochs"]
        except (KeyError, TypeError) as exc:
            raise ValueError("History.load_state_dict expects a dict with keys 'metric_names', "
                             f"'steps', 'epochs'; got {type(state).__name__}") from exc
        tmp = History(names)
        if set(steps) != set(tmp.steps) or set(epochs) != set(tmp.epochs):
            raise ValueError(f"History.load_state_dict: columns {sorted(steps)} / {sorted(epochs)} "
                             f"do not match expected {sorted(tmp.steps)} / {sorted(tmp.epochs)}")
        if len({len(v) for v in steps.values()}) > 1 or len({len(v) for v in epochs.values()}) > 1:
            raise ValueError("History.load_state_dict: columns have different lengths")
        self.metric_names = names
        self.steps = {k: list(steps[k]) for k in tmp.steps}
        self.epochs = {k: list(epochs[k]) for k in tmp.epochs}

    def to_csv(self, path=None, which="epochs"):
        """Write one table as CSV (``which='epochs'`` or ``'steps'``).

        Returns the CSV text when ``path`` is None, else writes the file and returns ``path``.
        """
        if which not in ("epochs", "steps"):
            raise ValueError(f"History.to_csv: which must be 'epochs' or 'steps', got {which!r}")
        table = self.epochs if which == "epochs" else self.steps
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(list(table))
        for row in zip(*table.values()):
            writer.writerow([repr(float(v)) if isinstance(v, float) else v for v in row])
        text = buf.getvalue()
        if path is None:
            return text
        with open(path, "w", newline="") as f:
            f.write(text)
        return path

    def plot(self, figsize=None):
        """Learning curves as a matplotlib Figure.

        Panels: loss (per step, and per epoch for train and validation, drawn at the
        step where each epoch ends), learning rate, gradient norm and update ratio
        (log scale) and, if any, the metrics per epoch.
        """
        import matplotlib.pyplot as plt  # lazy: matplotlib is heavy
        import numpy as np

        n_panels = 4 if self.metric_names else 3
        fig, axes = plt.subplots(1, n_panels, figsize=figsize or (4.2 * n_panels, 3.4),
                                 squeeze=False)
        axes = axes[0]
        st, ep = self.steps, self.epochs
        ax = axes[0]
        if st["step"]:
            ax.plot(st["step"], st["loss"], color="C0", alpha=0.35, lw=0.8, label="batch loss")
        if ep["epoch"]:
            # the train loss of an epoch is an average over its steps: drawn at the middle of the
            # epoch; the validation loss is measured with the weights at its end: drawn there
            mids, ends = _epoch_steps(st, ep["epoch"])
            ax.plot(mids, ep["train_loss"], "o-", color="C0", label="train loss (epoch mean)")
            if not all(math.isnan(v) for v in ep["val_loss"]):
                ax.plot(ends, ep["val_loss"], "s-", color="C1", label="val loss (end of epoch)")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.set_title("Loss")
        if ax.get_lines():
            ax.legend(fontsize="small")

        ax = axes[1]
        ax.plot(st["step"], st["lr"], color="C2")
        lrs = np.asarray(st["lr"], dtype=float)
        lrs = lrs[np.isfinite(lrs) & (lrs > 0)]
        if lrs.size and lrs.max() > 10 * lrs.min():
            ax.set_yscale("log")
        else:
            ax.ticklabel_format(axis="y", useOffset=False)
        ax.set_xlabel("step")
        ax.set_title("Learning rate")

        ax = axes[2]
        gn = np.asarray(st["grad_norm"], dtype=float)
        ur = np.asarray(st["update_ratio"], dtype=float)
        ax.plot(st["step"], gn, color="C3", lw=0.8, label="grad norm")
        ax.set_yscale("log" if gn.size and np.all(gn[np.isfinite(gn)] > 0) else "linear")
        ax.set_xlabel("step")
        ax.set_title("Gradient norm / update ratio")
        ax2 = ax.twinx()
        ax2.plot(st["step"], ur, color="C4", lw=0.8, label="||Δθ||/||θ||")
        if ur.size and np.all(ur[np.isfinite(ur)] > 0):
            ax2.set_yscale("log")
        lines = ax.get_lines() + ax2.get_lines()
        if st["step"]:
            ax.legend(lines, [ln.get_label() for ln in lines], fontsize="small")

        if self.metric_names:
            ax = axes[3]
            for i, name in enumerate(self.metric_names):
                ax.plot(ep["epoch"], ep[f"train_{name}"], "o-", color=f"C{i}", label=f"train {name}")
                if not all(math.isnan(v) for v in ep[f"val_{name}"]):
                    ax.plot(ep["epoch"], ep[f"val_{name}"], "s--", color=f"C{i}", label=f"val {name}")
            ax.set_xlabel("epoch")
            ax.set_title("Metrics")
            ax.legend(fontsize="small")
        fig.tight_layout()
        return fig


def _epoch_steps(steps, epochs):
    """Middle and last global step of each recorded epoch (to draw epoch points on the step axis)."""
    first, last = {}, {}
    for s, e in zip(steps["step"], steps["epoch"]):
        first.setdefault(e, s)
        last[e] = s
    mids = [(first[e] + last[e]) / 2 if e in last else math.nan for e in epochs]
    ends = [last.get(e, math.nan) for e in epochs]
    return mids, ends
