r"""``DataLoader``: cut arrays into (optionally shuffled) mini-batches.

An epoch of mini-batch training visits every sample once, in an order drawn
afresh from a random generator at the start of the epoch. With :math:`N`
samples and batch size :math:`B` an epoch has :math:`\lceil N/B\rceil` batches
(:math:`\lfloor N/B\rfloor` with ``drop_last=True``, which drops the last,
smaller batch).
"""
from __future__ import annotations

import copy
import math
import numbers

import numpy as np

from ..nn.layers import as_generator

__all__ = ["DataLoader"]


class DataLoader:
    r"""Iterate over ``(X_batch, y_batch)`` numpy arrays, reshuffled every epoch.

    A light cousin of ``torch.utils.data.DataLoader`` for in-memory arrays: instead
    of a ``Dataset`` it takes the arrays themselves, and instead of a
    ``torch.Generator`` it takes a ``numpy.random.Generator`` (or an int seed).
    Each ``for`` loop over the loader is one epoch; with ``shuffle=True`` every
    epoch draws a new permutation :math:`\pi \sim \mathrm{Uniform}(S_N)` from
    ``rng``, so the same seed gives the same sequence of epochs.

    Parameters
    ----------
    X, y : array_like
        Inputs and targets with the same first dimension (number of samples).
    batch_size : int
        Samples per batch, at least 1 (default 1, as in torch).
    shuffle : bool
        Draw a new random order at the start of every epoch (default False).
    drop_last : bool
        Drop the last batch if it has fewer than ``batch_size`` samples.
    rng : numpy.random.Generator, int or None
        Source of the permutations. A Generator is used (and advanced) as is; an int
        seeds a new one; None takes fresh OS entropy (not reproducible).

    Batches are copies (fancy indexing), so changing a batch in place never
    changes ``X`` or ``y``; their dtypes are those of ``X`` and ``y``.

    Resuming. :meth:`state_dict` holds the generator's ``bit_generator.state`` as it
    was at the start of the current epoch plus the number of batches already served,
    so a loader restored with :meth:`load_state_dict` — even in the middle of an
    epoch — serves exactly the batches the original would have served next.

    Example
    -------
    >>> import numpy as np
    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> loader = DataLoader(X, y, batch_size=2, shuffle=True, rng=0)
    >>> len(loader)
    3
    >>> [yb.tolist() for _, yb in loader]      # one epoch
    [[2, 4], [3, 0], [1]]
    """

    def __init__(self, X, y, batch_size=1, shuffle=False, drop_last=False, rng=None):
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim == 0 or y.ndim == 0:
            raise ValueError("DataLoader: X and y must be arrays with one row per sample, "
                             f"got X of shape {X.shape} and y of shape {y.shape}")
        if len(X) != len(y):
            raise ValueError(f"DataLoader: X and y must have the same number of samples, "
                             f"got len(X)={len(X)} and len(y)={len(y)}")
        if len(X) == 0:
            raise ValueError("DataLoader: X and y are empty; at least one sample is needed")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if drop_last and batch_size > len(X):
            raise ValueError(f"DataLoader: drop_last=True with batch_size={batch_size} > "
                             f"{len(X)} samples would give no batch at all")
        self.X, self.y = X, y
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.rng = as_generator(rng)
        self._epoch_start_state = None   # rng state before the permutation of the running epoch
        self._served = 0                 # batches served in the running epoch
        self._resume = None              # (rng state, batches to skip) set by load_state_dict

    @property
    def num_samples(self):
        """Number of samples (rows of ``X``)."""
        return len(self.X)

    def __len__(self):
        """Number of batches in one epoch."""
        n, b = self.num_samples, self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def __iter__(self):
        if self._resume is not None:
            state, skip = self._resume
            self._resume = None
            self.rng.bit_generator.state = state
        else:
            skip = 0
        self._epoch_start_state = copy.deepcopy(self.rng.bit_generator.state)
        n = self.num_samples
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        self._served = skip
        for i in range(skip, len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            self._served = i + 1
            yield self.X[idx], self.y[idx]
        self._epoch_start_state = None
        self._served = 0

    def __repr__(self):
        return (f"DataLoader(num_samples={self.num_samples}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches={len(self)})")

    # ------------------------------------------------------------------ checkpointing
    def state_dict(self):
        """``{'rng_state': ..., 'batches_served': k}``: enough to resume bit-identically.

        Between epochs ``rng_state`` is the generator's current state and ``k = 0``;
        inside an epoch it is the state before that epoch's permutation was drawn and
        ``k`` counts the batches already served.
        """
        if self._resume is not None:
            state, served = self._resume
        elif self._epoch_start_state is not None:
            state, served = self._epoch_start_state, self._served
        else:
            state, served = self.rng.bit_generator.state, 0
        return {"rng_state": copy.deepcopy(state), "batches_served": int(served)}

    def load_state_dict(self, state):
        """Restore :meth:`state_dict`; the next ``for`` loop continues where the saved one was."""
        try:
            rng_state, served = state["rng_state"], state["batches_served"]
        except (KeyError, TypeError) as exc:
            raise ValueError("DataLoader.load_state_dict expects a dict with keys 'rng_state' and "
                             f"'batches_served', got {state!r:.100}") from exc
        if not isinstance(served, numbers.Integral) or not 0 <= served <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batches_served must be an int in "
                             f"[0, {len(self)}], got {served!r}")
        name = type(self.rng.bit_generator).__name__
        if not isinstance(rng_state, dict) or rng_state.get("bit_generator") != name:
            got = rng_state.get("bit_generator") if isinstance(rng_state, dict) else type(rng_state).__name__
            raise ValueError(f"DataLoader.load_state_dict: rng_state is for bit generator {got!r}, "
                             f"but this loader's generator is {name!r}")
        # validate by loading into a scratch generator first, so a bad state changes nothing
        scratch = type(self.rng.bit_generator)()
        try:
            scratch.state = rng_state
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"DataLoader.load_state_dict: invalid rng_state ({exc})") from exc
        state_copy = copy.deepcopy(rng_state)
        if served == 0:
            self.rng.bit_generator.state = state_copy
            self._resume = None
        else:
            self._resume = (state_copy, int(served))
        self._epoch_start_state = None
        self._served = 0
