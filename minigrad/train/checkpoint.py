r"""Checkpoints: the whole training state in one ``.npz`` file, and the callback that writes it.

A checkpoint holds what is needed to continue a run *bit-identically*: model
parameters, optimizer state (Adam's moments and step counts), scheduler state,
the data loader's random generator, the epoch and step counters, the history
and the state of the callbacks.  Resuming with
``fit(..., resume_from="ckpt.npz")`` after 2 epochs and training 2 more gives
exactly the parameters of 4 uninterrupted epochs.

File format: NumPy's ``.npz`` (a zip of ``.npy`` arrays), readable with
``np.load(path, allow_pickle=False)`` — no pickle, so loading a checkpoint
cannot execute code.  Nested dicts, lists and tuples are flattened: every array
is stored under its own key and the structure (with plain numbers, strings,
``None`` and arbitrarily large integers such as a PCG64 state) goes into a JSON
string stored under ``__tree__``.  Files are written atomically: to a temporary
file in the same directory, flushed to disk, then renamed over the target, so a
crash mid-write never leaves a truncated checkpoint.
"""
from __future__ import annotations

import json
import math
import os
import tempfile

import numpy as np

from .callbacks import Callback, _monitored_value, _resolve_mode

__all__ = ["save_checkpoint", "load_checkpoint", "ModelCheckpoint"]

_TREE_KEY = "__tree__"
_FORMAT = "minigrad-checkpoint-v1"


def _encode(obj, arrays):
    """Turn ``obj`` into JSON-able data, moving arrays (and numpy scalars) into ``arrays``."""
    if isinstance(obj, (np.ndarray, np.generic)):
        arr = np.asarray(obj)
        if arr.dtype.hasobject:
            raise TypeError("save_checkpoint: object arrays cannot be saved without pickle; "
                            "convert them to numeric arrays")
        key = f"a{len(arrays)}"
        arrays[key] = arr
        return {"__array__": key, "scalar": isinstance(obj, np.generic)}
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return {"__float__": repr(obj)}              # nan / inf / -inf, JSON has none
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if isinstance(obj, dict):
        # keep key types (optimizer state is keyed by int parameter index)
        return {"__dict__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if hasattr(obj, "data") and isinstance(getattr(obj, "data"), np.ndarray):   # a Tensor
        return _encode(obj.data, arrays)
    raise TypeError(f"save_checkpoint: cannot store a value of type {type(obj).__name__} "
                    f"({obj!r:.60}); use numbers, strings, None, lists, tuples, dicts and numpy arrays")


def _decode(obj, arrays):
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if isinstance(obj, dict):
        if "__array__" in obj:
            arr = arrays[obj["__array__"]]
            return arr[()] if obj["scalar"] else arr
        if "__float__" in obj:
            return float(obj["__float__"])
        if "__tuple__" in obj:
            return tuple(_decode(v, arrays) for v in obj["__tuple__"])
        if "__dict__" in obj:
            return {_hashable(_decode(k, arrays)): _decode(v, arrays) for k, v in obj["__dict__"]}
        raise ValueError(f"load_checkpoint: corrupt structure entry {obj!r:.80}")
    return obj


def _hashable(k):
    return k.item() if isinstance(k, np.generic) else k


def save_checkpoint(path, state):
    """Write a nested structure of dicts/lists/tuples/arrays/numbers to ``path`` (``.npz``), atomically.

    Example
    -------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "c.npz")
    >>> save_checkpoint(p, {"w": np.arange(3.0), "step": 7, "betas": (0.9, 0.999)})
    >>> load_checkpoint(p)["betas"]
    (0.9, 0.999)
    """
    arrays = {}
    tree = _encode(state, arrays)
    payload = json.dumps({"format": _FORMAT, "tree": tree})
    arrays[_TREE_KEY] = np.array(payload)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-" + os.path.basename(path) + "-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)          # atomic on POSIX and Windows
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_checkpoint(path):
    """Read what :func:`save_checkpoint` wrote (``np.load(..., allow_pickle=False)``)."""
    with np.load(os.fspath(path), allow_pickle=False) as npz:
        if _TREE_KEY not in npz.files:
            raise ValueError(f"load_checkpoint: {path!s} is not a minigrad checkpoint (no {_TREE_KEY!r} entry)")
        meta = json.loads(str(npz[_TREE_KEY]))
        if meta.get("format") != _FORMAT:
            raise ValueError(f"load_checkpoint: {path!s} has format {meta.get('format')!r}, "
                             f"expected {_FORMAT!r}")
        arrays = {k: npz[k] for k in npz.files if k != _TREE_KEY}
    return _decode(meta["tree"], arrays)


class ModelCheckpoint(Callback):
    r"""Save the full training state to ``filepath`` at the end of epochs.

    Parameters
    ----------
    filepath : str or PathLike
        Target ``.npz`` file; may contain format fields filled from the epoch logs,
        e.g. ``"ckpt/epoch{epoch:02d}-{val_loss:.3f}.npz"``.
    monitor : str
        Epoch-log key compared when ``save_best_only`` (default ``'val_loss'``).
    mode : {'auto', 'min', 'max'}
        Whether a lower or higher ``monitor`` is better ('auto': accuracy-like names are maximised).
    save_best_only : bool
        Only write when ``monitor`` improved on the best value so far.
    every_n_epochs : int
        Consider saving every this many epochs.

    Resume a run with ``fit(..., resume_from=filepath)``; ``epochs`` stays the total
    number of epochs (like Lightning's ``max_epochs``).  Checkpoint callbacks run after
    all other callbacks, so the saved state includes, e.g., the early-stopping counter.

    Example
    -------
    >>> ckpt = ModelCheckpoint("run/last.npz")                                   # doctest: +SKIP
    >>> fit(model, loss_fn, opt, loader, epochs=2, callbacks=[ckpt])             # doctest: +SKIP
    >>> fit(model, loss_fn, opt, loader, epochs=4, resume_from="run/last.npz")   # doctest: +SKIP
    """

    run_last = True

    def __init__(self, filepath, monitor="val_loss", mode="auto", save_best_only=False,
                 every_n_epochs=1, verbose=False):
        if not isinstance(every_n_epochs, int) or every_n_epochs < 1:
            raise ValueError(f"ModelCheckpoint: every_n_epochs must be a positive int, got {every_n_epochs!r}")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor, "ModelCheckpoint")
        self.save_best_only = bool(save_best_only)
        self.every_n_epochs = every_n_epochs
        self.verbose = verbose
        self.best = math.inf if self.mode == "min" else -math.inf
        self.last_path = None

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch % self.every_n_epochs:
            return
        if self.save_best_only:
            value = _monitored_value(logs, self.monitor, "ModelCheckpoint")
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best = value
        try:
            path = self.filepath.format(**logs)
        except (KeyError, ValueError, IndexError) as exc:
            raise ValueError(f"ModelCheckpoint: cannot format filepath {self.filepath!r} with the epoch "
                             f"logs {sorted(logs)}: {exc}") from exc
        save_checkpoint(path, trainer.state_dict())
        self.last_path = path
        if self.verbose:
            print(f"ModelCheckpoint: epoch {epoch}: saved {path}")

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = float(state["best"])
