r"""Checks on the gradient norm (exploding, vanishing) and on validation (overfitting)."""
from __future__ import annotations

import math

import numpy as np

from .context import median_finite, rel
from .findings import Finding

__all__ = ["check_exploding_gradients", "check_vanishing_gradients", "check_overfitting"]


def _reference(gn, n):
    """Median of the first ``n`` finite, positive gradient norms (NaN if none)."""
    ok = gn[np.isfinite(gn) & (gn > 0)]
    return float(np.median(ok[:n])) if ok.size else math.nan


def check_exploding_gradients(run):
    r"""A non-finite gradient norm, or one above ``explode_factor`` times its initial level.

    The reference is the median of the first ``grad_ref_steps`` gradient norms.
    Evidence: ``step``, ``grad_norm``, ``reference``, ``ratio``, ``max_grad_norm``, ``lr``.
    """
    th, st = run.th, run.steps
    gn = st.grad_norm
    if len(gn) == 0 or np.all(np.isnan(gn)):        # not recorded
        return None
    ref = _reference(gn, th.grad_ref_steps)
    nonfinite = ~np.isfinite(gn)
    big = (gn > th.explode_factor * ref) if ref == ref else np.zeros(len(gn), bool)
    hit = nonfinite | big
    if not hit.any():
        return None
    i = int(np.argmax(hit))
    s, e = st.where(i)
    finite = gn[np.isfinite(gn)]
    gmax = float(finite.max()) if finite.size else math.nan
    lr = run.lr_at(i)
    ratio = gn[i] / ref if ref == ref and ref > 0 else math.inf
    if nonfinite[i]:
        msg = (f"The gradient norm became {gn[i]} at step {s} (lr={lr:.3g}); before that it was typically "
               f"{ref:.3g} and at most {gmax:.3g}.")
        severity = "critical"
    else:
        msg = (f"The gradient norm reached {gn[i]:.3g} at step {s} (lr={lr:.3g}), {ratio:.3g}x its initial "
               f"level {ref:.3g} (largest: {gmax:.3g}). Large gradients times the learning rate make huge "
               "steps, which grow the gradients further.")
        severity = "warning"
    return Finding("exploding_gradients", severity, msg,
                   "Lower the learning rate; clip the gradient norm (to a few times its typical size, "
                   f"here ~{ref:.2g}); standardize the inputs (and regression targets); check the "
                   "initialization (too-large initial weights). Very deep plain networks may need "
                   "normalization layers or residual connections.",
                   s, e, {"step": s, "grad_norm": float(gn[i]), "reference": ref, "ratio": float(ratio),
                          "max_grad_norm": gmax, "lr": lr})


def check_vanishing_gradients(run):
    r"""Tiny gradients while the loss is stuck near its initial value.

    The recent gradient norm is the median over the steps of the last ``plateau_window``
    points of the loss curve. It vanishes when it is below ``vanish_grad_norm`` or below
    (initial reference) / ``vanish_factor``, and the loss has made less than ``min_progress``
    (and did not diverge: dead units after a blow-up are reported as divergence).
    Evidence: ``grad_norm``, ``reference``, ``progress``, ``step``.
    """
    th, st = run.th, run.finite_steps
    gn = st.grad_norm
    if len(gn) < 2 or np.all(np.isnan(gn)) or not run.progress < th.min_progress or run.diverged:
        return None
    first_point = max(0, len(run.curve) - th.plateau_window - 1)
    window = run.curve_steps(first_point)
    recent = median_finite(gn[window])
    if not np.isfinite(recent):
        return None
    ok = gn[np.isfinite(gn)]
    ref = float(np.median(ok[:th.grad_ref_steps]))
    limit = max(th.vanish_grad_norm, ref / th.vanish_factor)
    if not recent < limit:
        return None
    i = int(np.argmax(gn < limit)) if np.any(gn < limit) else window.start
    s, e = st.where(i)
    msg = (f"The gradient norm is {recent:.2g} (median over the last steps; {ref:.2g} over the first "
           f"{min(th.grad_ref_steps, ok.size)}) while the training loss has fallen only {run.progress:.1%} "
           f"from its start ({run.initial_loss:.4g}): almost no gradient reaches the weights, so they "
           "stop changing although the model is far from trained.")
    return Finding("vanishing_gradients", "warning", msg,
                   "Check the activations and the initialization: saturated sigmoid/tanh units and dead "
                   "ReLUs (every input negative) pass no gradient. Use ReLU-like activations with "
                   "He/Kaiming initialization (Xavier/Glorot for tanh), standardize the inputs, lower a "
                   "learning rate that may have killed the ReLUs, and add normalization or residual "
                   "connections to deep networks.",
                   s, e, {"step": s, "grad_norm": recent, "reference": ref, "progress": float(run.progress)})


def check_overfitting(run):
    r"""Validation loss rising while the training loss falls (warning), or a large gap (info).

    Warning when the last ``overfit_patience`` validation losses all exceed the best one by
    more than ``overfit_rise`` (relative) and the training loss has fallen by more than
    ``overfit_rise`` (relative) since the best epoch.
    Info when the last validation loss exceeds the training loss by more than ``gap_ratio``
    times the training loss. Silent when the run diverged: a blown-up model's validation loss
    says nothing about memorization. Evidence: ``best_epoch``, ``best_val_loss``, ``val_loss``,
    ``train_loss_at_best``, ``train_loss``.
    """
    th, ep = run.th, run.epochs
    val, train, num = ep["val_loss"], ep["train_loss"], ep["epoch"]
    ok = np.flatnonzero(np.isfinite(val) & np.isfinite(train))
    if ok.size < 2 or run.diverged:
        return None
    v, t, n = val[ok], train[ok], num[ok]
    b = int(np.argmin(v))
    P = th.overfit_patience
    after = v[b + 1:]
    if after.size >= P and np.all(after[-P:] - v[b] > th.overfit_rise * abs(v[b])) \
            and t[b] - t[-1] > th.overfit_rise * abs(t[b]):
        eb = int(n[b])
        msg = (f"The validation loss was lowest at epoch {eb} ({v[b]:.4g}) and has risen to {v[-1]:.4g} "
               f"({rel(v[-1] - v[b], v[b]):+.0%}) over {after.size} epochs, while the training loss kept "
               f"falling ({t[b]:.4g} -> {t[-1]:.4g}): the model is fitting the noise of the training "
               "set (overfitting).")
        return Finding("overfitting", "warning", msg,
                       "Use early stopping: EarlyStopping(monitor='val_loss', restore_best_weights=True) "
                       f"keeps the weights of epoch {eb}. Add regularization (weight decay, dropout), use "
                       "a smaller model, or get more (or augmented) training data.",
                       None, eb + 1, {"best_epoch": eb, "best_val_loss": float(v[b]), "val_loss": float(v[-1]),
                                      "train_loss_at_best": float(t[b]), "train_loss": float(t[-1])})
    if v[-1] > t[-1] and v[-1] - t[-1] > th.gap_ratio * abs(t[-1]):
        ratio = v[-1] / t[-1] if t[-1] > 0 else math.inf
        msg = (f"At epoch {int(n[-1])} the validation loss ({v[-1]:.4g}) is {ratio:.3g}x the "
               f"training loss ({t[-1]:.4g}): a large generalization gap, although the validation loss "
               "is not (yet) rising.")
        return Finding("overfitting", "info", msg,
                       "Watch the validation loss: regularization (weight decay, dropout) or more data "
                       "narrow the gap, early stopping keeps it from growing.",
                       None, int(n[-1]), {"best_epoch": int(n[b]), "best_val_loss": float(v[b]),
                                          "val_loss": float(v[-1]), "train_loss_at_best": float(t[b]),
                                          "train_loss": float(t[-1])})
    return None
