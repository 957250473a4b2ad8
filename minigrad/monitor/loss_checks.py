r"""Checks on the training loss: divergence, oscillation, plateau / slow progress."""
from __future__ import annotations

import math

import numpy as np

from .context import median_finite, rel
from .findings import Finding
from .series import rolling_median

__all__ = ["check_divergence", "check_oscillation", "check_plateau"]

LOWER_LR = ("Lower the learning rate 3-10x (the learning-rate finder, minigrad.lr_find, shows where "
            "the loss starts to blow up).")


def _noise_allowance(loss, w, z):
    r"""``exp(sigma_m * (2 sqrt(2 ln n) + z))``: how far medians of ``w`` noisy losses stray apart.

    :math:`\sigma` is the robust (MAD) scale of :math:`\log L_t` around its trailing median and
    :math:`\sigma_m = 1.2533\,\sigma/\sqrt w` the standard error of a median of ``w`` of them. Over
    :math:`n = N/w` independent windows the largest and the smallest median lie about
    :math:`\sqrt{2\ln n}\,\sigma_m` above and below the trend, hence the :math:`2\sqrt{2\ln n}`.
    Losses that are not all positive get no allowance.
    """
    if not np.all(loss > 0):
        return 1.0
    ll = np.log(loss)
    resid = ll - rolling_median(ll, w)
    sigma = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
    n = max(len(loss) / w, 2.0)
    return math.exp(1.2533 * sigma / math.sqrt(w) * (2 * math.sqrt(2 * math.log(n)) + z))


def check_divergence(run):
    r"""Non-finite loss, or a smoothed loss far above its best.

    With :math:`s_t` the trailing median of the last ``smooth_window`` losses (judged once the
    first window is full), :math:`b_t` its running minimum and :math:`L_0` the initial loss,
    step :math:`t` diverges when
    :math:`s_t - b_t > (\text{factor}\cdot a-1)|b_t|` and
    :math:`s_t - b_t > \text{giveback}\,(L_0 - b_t)`, where the noise allowance
    :math:`a = e^{\sigma_m(2\sqrt{2\ln n} + z)}` (``divergence_z`` = :math:`z`, :math:`\sigma_m` the
    standard error of a median of log-losses, :math:`n` the number of windows) keeps heavy
    mini-batch noise from looking like a blow-up (see ``_noise_allowance``).
    The finding starts at the first step after the best smoothed window.
    Evidence: ``step``, ``loss`` (the peak), ``best_loss``, ``initial_loss``, ``lr`` and, for a
    finite rise, ``detected_step`` and ``recovered``.
    """
    th, steps = run.th, run.steps
    if run.first_bad is not None:
        i = run.first_bad
        s, e = steps.where(i)
        prev = run.finite_steps.loss
        last, best = (float(prev[-1]), float(prev.min())) if len(prev) else (math.nan, math.nan)
        lr = run.lr_at(i)
        return Finding(
            "divergence", "critical",
            f"The training loss became {steps.loss[i]} at step {s} (lr={lr:.3g}); the last finite loss "
            f"was {last:.4g} and the best {best:.4g}. Once a loss is non-finite every weight it "
            "touches becomes NaN and training cannot recover.",
            f"{LOWER_LR} Also look for log(0) or a division by zero in the loss (use "
            "cross_entropy on logits rather than log(softmax)), clip gradients, and add "
            "TerminateOnNaN to stop such runs at once.",
            s, e, {"step": s, "loss": float(steps.loss[i]), "last_finite_loss": last,
                   "best_loss": best, "lr": lr})
    loss = run.finite_steps.loss
    if len(loss) < 2:
        return None
    w = min(th.smooth_window, len(loss))
    sm = rolling_median(loss, w)[w - 1:]                 # judged once the first window is full
    L0 = run.initial_loss
    best = np.minimum.accumulate(sm)
    rise = sm - best
    factor = th.divergence_factor * _noise_allowance(loss, w, th.divergence_z)
    bad = (rise > (factor - 1) * np.abs(best)) & (rise > th.divergence_giveback * (L0 - best)) \
        & (rise > 1e-12 * abs(L0))
    if not bad.any():
        return None
    i = int(np.argmax(bad))                              # detected here (window ending at step i)
    j = i + int(np.argmax(sm[i:]))                       # the peak of the excursion
    b = int(np.flatnonzero(sm[:i + 1] == best[i])[-1])   # the best window before it
    start = min(b + w, i + w - 1)                        # first step after the best window
    s, e = run.finite_steps.where(start)
    detected = run.finite_steps.where(i + w - 1)[0]
    lr = run.lr_at(start)
    still = bool(bad[-1])
    ratio = sm[j] / best[j] if best[j] > 0 else math.inf
    msg = (f"From step {s} on (lr={lr:.3g}) the training loss (median of {w} steps) rose from its best "
           f"{best[i]:.4g} to {sm[i]:.4g} by step {detected} and peaked at {sm[j]:.4g} "
           f"({ratio:.3g}x the best, ")
    if sm[j] > L0:
        msg += f"above the initial loss {L0:.4g}). "
    else:
        msg += f"giving back {rel(sm[j] - best[j], L0 - best[j]):.0%} of the progress made since the start). "
    if still:
        msg += "It has not come back down: the updates overshoot and grow."
    else:
        msg += f"It came back down to {sm[-1]:.4g}: a loss spike, a sign of an unstable step size."
    return Finding("divergence", "critical" if still else "warning", msg,
                   f"{LOWER_LR} If it happens late in training, decay the learning rate (a schedule or "
                   "ReduceLROnPlateau) or use warm-up; clipping the gradient norm also tames spikes.",
                   s, e, {"step": s, "detected_step": detected, "loss": float(sm[j]),
                          "best_loss": float(best[j]), "initial_loss": L0, "lr": lr, "recovered": not still})


def _pooled_se(c):
    """Standard errors of the curve's means, at least the pooled relative noise of all points.

    A point that averages only a few steps estimates its own noise badly; the relative
    variance (std/mean)^2 pooled over the whole curve is steadier (mini-batch noise is
    roughly proportional to the loss)."""
    k = c.count
    multi = k > 1
    if not multi.any():
        return c.se
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rel_var = (c.se[multi] ** 2 * k[multi]) / c.values[multi] ** 2
    rel_var = rel_var[np.isfinite(rel_var)]
    if not rel_var.size:
        return c.se
    pooled = np.abs(c.values) * np.sqrt(float(np.mean(rel_var)) / np.maximum(k, 1))
    return np.where(multi, np.maximum(c.se, pooled), c.se)


def check_oscillation(run):
    r"""The loss curve goes up and down by more than noise instead of descending.

    A change :math:`d` between consecutive points of the curve counts when
    :math:`|d| > \text{rise}\cdot|L|` and :math:`|d| > z\sqrt{se_1^2 + se_2^2}` (the
    mini-batch noise of the two means, never below the noise pooled over the run). Every
    window of ``oscillation_window`` changes is scanned; a window oscillates when it has at
    least ``oscillation_min_rises`` = :math:`k`
    rises, as many falls, and :math:`2k-1` reversals of direction among them (a descent
    followed by a steady climb is divergence, not oscillation).
    The first window whose net progress is below ``oscillation_net_progress`` gives a warning;
    otherwise the first oscillating window gives an info (ripples on a falling loss).
    Evidence: ``rises``, ``falls``, ``largest_rise`` (relative), ``net_progress``, ``lr``.
    """
    th, c = run.th, run.curve
    if len(c) < 4:
        return None
    v, se = c.values, _pooled_se(c)
    d = np.diff(v)
    noise = th.oscillation_z * np.sqrt(se[:-1] ** 2 + se[1:] ** 2)
    big = (np.abs(d) > th.oscillation_rise * np.abs(v[:-1])) & (np.abs(d) > noise) \
        & (np.abs(d) > 1e-12 * np.max(np.abs(v)))
    rises, falls = big & (d > 0), big & (d < 0)
    m = min(len(d), th.oscillation_window)               # changes per window
    ones = np.ones(m, dtype=int)
    n_r = np.convolve(rises.astype(int), ones, "valid")  # window w covers changes w .. w+m-1
    n_f = np.convolve(falls.astype(int), ones, "valid")
    starts = np.arange(len(n_r))
    net = np.array([rel(v[w] - v[w + m], v[w]) for w in starts])
    sign = np.where(rises, 1, np.where(falls, -1, 0))
    need = th.oscillation_min_rises
    osc = (n_r >= need) & (n_f >= need)
    for w in np.flatnonzero(osc):                         # up and down must alternate
        sg = sign[w:w + m][sign[w:w + m] != 0]
        osc[w] = np.count_nonzero(np.diff(sg)) >= 2 * need - 1
    if not osc.any():
        return None
    bad = osc & (net <= th.oscillation_net_progress)
    w = int(np.argmax(bad)) if bad.any() else int(np.argmax(osc))
    severity = "warning" if bad.any() else "info"
    r = rises[w:w + m]
    rel_rise = np.where(r, d[w:w + m] / np.maximum(np.abs(v[w:w + m]), 1e-300), 0.0)
    top = int(np.argmax(rel_rise))
    first = w + int(np.argmax(r)) + 1                   # the point after the first rise
    s, e = c.where(first)
    lr = run.lr_at(run.curve_steps(first).start)
    span = f"{c.label(w)} to {c.label(w + m)}"
    msg = (f"From {span} the training loss rose {int(n_r[w])} times by more than {th.oscillation_rise:.0%} "
           f"(largest rise +{rel_rise[top]:.0%} at {c.label(w + top + 1)}) and fell {int(n_f[w])} times, "
           f"beyond mini-batch noise: the steps overshoot the valley and bounce across it (lr={lr:.3g}).")
    if severity == "info":
        msg += (f" The loss still fell by {net[w]:.0%} over that stretch, so the run converges despite the "
                "ripples (typical of momentum).")
    else:
        msg += f" Net change over that stretch: {-net[w]:+.0%}."
    return Finding("oscillation", severity, msg,
                   f"{LOWER_LR} With momentum, a smaller momentum also damps the swings; with small "
                   "mini-batches a larger batch averages out the noise. Do not raise the learning rate.",
                   s, e, {"rises": int(n_r[w]), "falls": int(n_f[w]), "largest_rise": float(rel_rise[top]),
                          "net_progress": float(net[w]), "lr": lr})


def check_plateau(run):
    r"""Little progress from the start (a warning) or a flat loss after good progress (info).

    With :math:`L_0` the initial loss and the curve :math:`c`, progress is
    :math:`p = (L_0 - \min c)/|L_0|` and the recent improvement :math:`r` is the drop of the
    least-squares line through the last :math:`W+1` points (:math:`W` = ``plateau_window``),
    relative to their mean. Warning when :math:`p` and :math:`r` are both below
    ``min_progress`` (unless the learning rate is still warming up: it rose by more than 50%
    over the window); info (converged) when :math:`r` is below ``plateau_tol`` or below two
    standard errors of the mini-batch noise. The median update ratio picks the suggested
    action: below ``small_update_ratio`` the learning rate is too low; above ``large_update_ratio`` *and* with
    the loss rising by more than ``oscillation_rise`` somewhere in the window, too high.
    Silent when the run diverged (its loss curve says nothing about the step size being too small).
    Evidence: ``progress``, ``recent_improvement``, ``update_ratio``, ``grad_norm``, ``lr``.
    """
    th, c = run.th, run.curve
    W = th.plateau_window
    if len(c) < W + 1 or run.diverged:
        return None
    tail, tail_se = c.values[-W - 1:], _pooled_se(c)[-W - 1:]
    x = np.arange(W + 1) - W / 2
    sxx = float(x @ x)
    level = float(np.mean(tail))
    recent = rel(-float(x @ tail) / sxx * W, level)          # least-squares drop over the window
    recent_se = rel(float(np.sqrt((x ** 2) @ tail_se ** 2)) / sxx * W, level)
    window = run.curve_steps(len(c) - W - 1)
    st = run.finite_steps
    ur = median_finite(st.update_ratio[window])
    gn = median_finite(st.grad_norm[window])
    lrs = st.lr[window][np.isfinite(st.lr[window])]
    lr = float(lrs[-1]) if lrs.size else math.nan
    if lrs.size and lrs[-1] > 1.5 * lrs[0]:
        return None                                     # warm-up in progress: judge later
    p = run.progress
    swings = bool(np.any(np.diff(tail) > th.oscillation_rise * np.abs(tail[:-1])))
    ev = {"progress": float(p), "recent_improvement": float(recent), "update_ratio": ur,
          "grad_norm": gn, "lr": lr}
    if p < th.min_progress and recent < th.min_progress:
        s, e = c.where(0)
        msg = (f"After {len(c)} {c.units} the training loss has fallen only {p:.1%} from its start "
               f"({run.initial_loss:.4g} -> {run.best_loss:.4g}); its trend over the last {W} {c.units} "
               f"is {-recent:+.1%}. ")
        if ur < th.small_update_ratio:
            msg += (f"The weights barely move: the median update ratio ||dθ||/||θ|| is {ur:.2g} (about 1e-3 "
                    f"is healthy) with lr={lr:.3g}.")
            action = ("The learning rate is too low: raise it 10-100x (minigrad.lr_find suggests a value) "
                      "or use a warm-up / one-cycle schedule with a larger peak. If the gradient norm is "
                      "also tiny, see the vanishing-gradient finding first.")
        elif ur > th.large_update_ratio and swings:
            msg += (f"The updates are large (median update ratio {ur:.2g}, about 1e-3 is healthy, "
                    f"lr={lr:.3g}) and the loss swings up and down: the steps overshoot instead of descending.")
            action = "The learning rate is too high: lower it 3-10x."
        else:
            moving = (f"The weights do move (median update ratio {ur:.2g}, lr={lr:.3g}) but" if ur == ur
                      else f"With lr={lr:.3g}")
            msg += (f"{moving} the loss does "
                    "not fall: the optimizer is crossing a flat region or saddle of the loss surface, or "
                    "something in the data or model blocks learning.")
            action = ("Check the data (inputs standardized, labels matching inputs, shuffling), that the "
                      "loss suits the output (logits into cross_entropy), and for dead or saturated units "
                      "(gradient norm); then try momentum or Adam, a larger model, or more epochs.")
        return Finding("plateau", "warning", msg, action, s, e, ev)
    if recent < max(th.plateau_tol, 2 * recent_se):
        i = len(c) - W - 1
        s, e = c.where(i)
        noise = " (within mini-batch noise)" if recent >= th.plateau_tol else ""
        msg = (f"Over the last {W} {c.units} (from {c.label(i)}) the training loss improved by only "
               f"{max(recent, 0.0):.1%}{noise}, to {c.values[-1]:.4g}, after falling {p:.0%} from its start: "
               "the run has converged at this learning rate.")
        action = ("Stop here (EarlyStopping) or decay the learning rate (StepLR, CosineAnnealingLR, "
                  "ReduceLROnPlateau) to go lower; if the training loss is still too high for the task, "
                  "the model underfits: make it larger.")
        if ur > th.large_update_ratio:
            msg += (f" The updates are still large (median update ratio {ur:.2g}, about 1e-3 is healthy): "
                    "the weights bounce around the minimum instead of settling into it.")
            action = ("Decay the learning rate (StepLR, CosineAnnealingLR, ReduceLROnPlateau) or lower it "
                      "to let the weights settle; or stop here (EarlyStopping).")
        return Finding("plateau", "info", msg, action, s, e, ev)
    return None
