r"""The :class:`Trainer`: the state and the loop behind :func:`minigrad.train.fit`.

**Scheduler stepping rule** (as PyTorch Lightning's ``interval='epoch'|'step'``):
``scheduler_interval=None`` picks ``'batch'`` for :class:`OneCycleLR` and
:class:`CyclicLR` (their cycles are counted in optimizer steps) and ``'epoch'``
for every other scheduler.  ``ReduceLROnPlateau`` is stepped with the monitored
value: ``scheduler_monitor`` (default ``'val_loss'`` when there is a validation
loader, else ``'train_loss'``; per batch it gets the batch loss).  Schedulers
are stepped after ``optimizer.step()``, as PyTorch requires.
"""
from __future__ import annotations

import math
import time

import numpy as np

from .callbacks import Callback
from .history import History
from .metrics import as_input, batch_len, compute_metrics, evaluate, normalize_metrics, target_array
from ..optim.step_stats import measure_step

__all__ = ["Trainer", "PER_BATCH_SCHEDULERS"]

#: Schedulers stepped after every batch when ``scheduler_interval`` is not given.
PER_BATCH_SCHEDULERS = ("OneCycleLR", "CyclicLR")


_NO_STATS = (math.nan, math.nan)


def _is_plateau(scheduler):
    return any(c.__name__ == "ReduceLROnPlateau" for c in type(scheduler).__mro__)


def _default_interval(scheduler):
    names = {c.__name__ for c in type(scheduler).__mro__}
    return "batch" if names.intersection(PER_BATCH_SCHEDULERS) else "epoch"


class Trainer:
    """The state of a :func:`fit` run; callbacks receive it as ``trainer``.

    Attributes: ``model, loss_fn, optimizer, train_loader, val_loader, scheduler,
    epochs, metrics, callbacks, history, epoch`` (completed epochs),
    ``global_step`` (completed optimizer steps), ``stop_training``.
    """

    def __init__(self, model, loss_fn, optimizer, train_loader, epochs, val_loader=None,
                 scheduler=None, metrics=None, callbacks=None, progress=True,
                 scheduler_interval=None, scheduler_monitor=None, track_stats=True):
        if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
        if not callable(loss_fn):
            raise TypeError(f"fit: loss_fn must be callable (output, target) -> scalar Tensor, got {loss_fn!r}")
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "param_groups"):
            raise TypeError(f"fit: optimizer must have step() and param_groups, got {type(optimizer).__name__}")
        if scheduler_interval not in (None, "epoch", "batch", "step"):
            raise ValueError(f"fit: scheduler_interval must be 'epoch', 'batch' or None, got {scheduler_interval!r}")
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"fit: callbacks must be minigrad.train.Callback instances, got {type(cb).__name__}")
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.train_loader, self.val_loader = train_loader, val_loader
        self.scheduler = scheduler
        self.epochs = int(epochs)
        self.metrics = normalize_metrics(metrics)
        # stable sort: checkpoints (run_last) see the state after the other callbacks' hooks
        self.callbacks = sorted(callbacks, key=lambda cb: bool(getattr(cb, "run_last", False)))
        self.progress = progress
        self.track_stats = bool(track_stats)
        if scheduler is not None:
            interval = scheduler_interval or _default_interval(scheduler)
            self.scheduler_interval = "batch" if interval == "step" else interval
        else:
            self.scheduler_interval = None
        self.scheduler_monitor = scheduler_monitor or ("val_loss" if val_loader is not None else "train_loss")
        self.history = History(list(self.metrics))
        self.epoch = 0
        self.global_step = 0
        self.stop_training = False

    # ------------------------------------------------------------------ state (checkpoints)
    def state_dict(self):
        """Everything needed to continue this run bit-identically (see :mod:`.checkpoint`)."""
        model = self.model
        rngs = {}
        for mod_name, mod in model.named_modules():
            for attr, value in vars(mod).items():
                if isinstance(value, np.random.Generator):
                    rngs[f"{mod_name}:{attr}"] = value.bit_generator.state
        state = {"epoch": self.epoch, "global_step": self.global_step,
                 "model": dict(model.state_dict()), "model_rngs": rngs,
                 "optimizer": self.optimizer.state_dict(),
                 "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
                 "train_loader": _loader_state(self.train_loader),
                 "val_loader": _loader_state(self.val_loader),
                 "history": self.history.state_dict(),
                 "callbacks": {f"{i}:{type(cb).__name__}": cb.state_dict()
                               for i, cb in enumerate(self.callbacks)}}
        return state

    def load_state_dict(self, state):
        """Restore a :meth:`state_dict` (model, optimizer, scheduler, loaders, counters, history, callbacks)."""
        if (state.get("scheduler") is None) != (self.scheduler is None):
            raise ValueError("fit(resume_from=...): the checkpoint was saved "
                             f"{'with' if state.get('scheduler') is not None else 'without'} a scheduler "
                             f"but this run has {'one' if self.scheduler is not None else 'none'}")
        history = History(self.history.metric_names)
        history.load_state_dict(state["history"])
        if history.metric_names != self.history.metric_names:
            raise ValueError(f"fit(resume_from=...): the checkpoint has metrics {history.metric_names}, "
                             f"this run has {self.history.metric_names}")
        backup = (self.model.state_dict(), self.optimizer.state_dict(),
                  None if self.scheduler is None else self.scheduler.state_dict())
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None:
                self.scheduler.load_state_dict(state["scheduler"])
        except Exception:          # a checkpoint that does not fit this run changes nothing
            self.model.load_state_dict(backup[0])
            self.optimizer.load_state_dict(backup[1])
            if self.scheduler is not None:
                self.scheduler.load_state_dict(backup[2])
            raise
        for key, loader in (("train_loader", self.train_loader), ("val_loader", self.val_loader)):
            if state.get(key) is not None and hasattr(loader, "load_state_dict"):
                loader.load_state_dict(state[key])
        modules = dict(self.model.named_modules())
        for key, rng_state in state.get("model_rngs", {}).items():
            mod_name, attr = key.rsplit(":", 1)
            rng = getattr(modules.get(mod_name), attr, None)
            if isinstance(rng, np.random.Generator):
                rng.bit_generator.state = rng_state
        saved = state.get("callbacks", {})
        for i, cb in enumerate(self.callbacks):
            key = f"{i}:{type(cb).__name__}"
            if key in saved:
                cb.load_state_dict(saved[key])
        self.history = history
        self.epoch = int(state["epoch"])
        self.global_step = int(state["global_step"])

    # ------------------------------------------------------------------ the loop
    def _progress_bar(self):
        if not self.progress:
            return None
        from tqdm.auto import tqdm     # a widget in Jupyter, text in a terminal
        try:
            per_epoch = len(self.train_loader)
        except TypeError:
            per_epoch = None
        total = per_epoch * self.epochs if per_epoch is not None else None
        return tqdm(total=total, initial=self.global_step if total else 0, unit="batch",
                    desc=f"epoch {self.epoch + 1}/{self.epochs}", dynamic_ncols=True, leave=True)

    def _run_epoch(self, epoch, bar, batch_callbacks):
        model, loss_fn, opt, history = self.model, self.loss_fn, self.optimizer, self.history
        sched = self.scheduler if self.scheduler_interval == "batch" else None
        plateau = sched is not None and _is_plateau(sched)
        group0 = opt.param_groups[0]
        keep_outputs = bool(self.metrics)
        track_stats = self.track_stats
        outs, ys = [], []
        total, count = 0.0, 0
        step = self.global_step
        model.train()
        for X, y in self.train_loader:
            out = model(as_input(X))
            loss = loss_fn(out, y)
            opt.zero_grad()
            loss.backward()
            lv = loss.item()
            lr = group0["lr"]
            if track_stats:
                stats = measure_step(opt)[1]
                grad_norm, ratio = stats.grad_norm, stats.update_ratio
            else:
                opt.step()
                grad_norm, ratio = _NO_STATS
            step += 1
            self.global_step = step
            history.record_step(step, epoch, lv, lr, grad_norm, ratio)
            if sched is not None:
                sched.step(lv) if plateau else sched.step()
            n = batch_len(y)
            total += lv * n
            count += n
            if keep_outputs:
                outs.append(out.data)
                ys.append(target_array(y))
            if bar is not None:
                bar.update(1)
            if batch_callbacks:
                logs = {"epoch": epoch, "loss": lv, "lr": lr, "grad_norm": grad_norm,
                        "update_ratio": ratio, "batch_size": n}
                for cb in batch_callbacks:
                    cb.on_batch_end(self, step, logs)
                if self.stop_training:
                    break
        train = {"train_loss": total / count if count else math.nan}
        train.update(compute_metrics(self.metrics, outs, ys, "train_"))
        return train

    def fit(self, resume_from=None):
        """Run the training loop; returns the :class:`~minigrad.train.History`."""
        if resume_from is not None:
            from .checkpoint import load_checkpoint
            self.load_state_dict(load_checkpoint(resume_from))
        self.stop_training = False
        callbacks = self.callbacks
        batch_callbacks = [cb for cb in callbacks if type(cb).on_batch_end is not Callback.on_batch_end]
        for cb in callbacks:
            cb.on_train_begin(self)
        bar = self._progress_bar()
        try:
            while self.epoch < self.epochs and not self.stop_training:
                epoch = self.epoch + 1
                for cb in callbacks:
                    cb.on_epoch_begin(self, epoch)
                if bar is not None:
                    bar.set_description(f"epoch {epoch}/{self.epochs}", refresh=False)
                t0 = time.perf_counter()
                logs = self._run_epoch(epoch, bar, batch_callbacks)
                if self.val_loader is not None:
                    val = evaluate(self.model, self.loss_fn, self.val_loader, self.metrics)
                    logs["val_loss"] = val.pop("loss")
                    logs.update({f"val_{k}": v for k, v in val.items()})
                elapsed = time.perf_counter() - t0
                self.history.record_epoch(epoch, logs["train_loss"], logs.get("val_loss", math.nan),
                                          elapsed, {k: v for k, v in logs.items() if k not in
                                                    ("train_loss", "val_loss")})
                row = self.history.last()
                if self.scheduler is not None and self.scheduler_interval == "epoch":
                    if _is_plateau(self.scheduler):
                        if self.scheduler_monitor not in row:
                            raise KeyError(f"fit: scheduler_monitor {self.scheduler_monitor!r} is not an "
                                           f"epoch log key; available: {sorted(row)}")
                        self.scheduler.step(row[self.scheduler_monitor])
                    else:
                        self.scheduler.step()
                self.epoch = epoch
                if bar is not None:
                    bar.set_postfix(_postfix(row), refresh=True)
                for cb in callbacks:
                    cb.on_epoch_end(self, epoch, row)
        finally:
            if bar is not None:
                bar.close()
            for cb in callbacks:
                cb.on_train_end(self)
        return self.history


def _postfix(row):
    return {k: f"{v:.4g}" for k, v in row.items()
            if k not in ("epoch", "time") and isinstance(v, float) and not math.isnan(v)}


def _loader_state(loader):
    if loader is not None and hasattr(loader, "state_dict"):
        return loader.state_dict()
    return None
