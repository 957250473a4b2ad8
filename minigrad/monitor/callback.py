r"""``DiagnosticsCallback``: run :func:`~minigrad.monitor.diagnose` live during :func:`~minigrad.train.fit`."""
from __future__ import annotations

import math

from ..train.callbacks import Callback
from .diagnose import diagnose
from .findings import Finding, Findings, severity_rank
from .thresholds import make_thresholds

__all__ = ["DiagnosticsCallback"]


class DiagnosticsCallback(Callback):
    r"""Watch a run as it trains; report each new problem once, optionally stop on divergence.

    After every epoch (and every ``check_every`` steps, if given) it runs
    :func:`~minigrad.monitor.diagnose` on ``trainer.history``. After every batch it
    checks, at constant cost, for a non-finite loss or gradient norm, so that a diverged
    run can be stopped at once. A finding is reported when its kind is new or its
    severity has grown; all reported findings are kept in :attr:`findings`.

    Parameters
    ----------
    stop_on_divergence : bool
        Set ``trainer.stop_training`` when a ``divergence`` finding appears (default False;
        add :class:`~minigrad.train.TerminateOnNaN` to also restore the last finite weights).
    verbose : bool
        Print each new finding (default True).
    min_severity : str
        As in :func:`diagnose` (default ``'warning'``).
    check_every : int or None
        Also run the full diagnosis every this many steps (None: at epoch ends only).
    **thresholds
        Passed to :func:`diagnose` (validated now).

    Attributes
    ----------
    findings : Findings
        Every finding reported so far, with the epoch at which it was first seen in
        ``seen_at_epoch``.

    Example
    -------
    >>> cb = DiagnosticsCallback(stop_on_divergence=True)                      # doctest: +SKIP
    >>> history = fit(model, F.mse_loss, opt, loader, 20, callbacks=[cb])      # doctest: +SKIP
    >>> print(cb.findings)                                                      # doctest: +SKIP
    """

    def __init__(self, stop_on_divergence=False, verbose=True, min_severity="warning", check_every=None,
                 **thresholds):
        severity_rank(min_severity)
        make_thresholds(**thresholds)                  # fail now, not in the middle of training
        if check_every is not None and (isinstance(check_every, bool) or not isinstance(check_every, int)
                                        or check_every < 1):
            raise ValueError(f"DiagnosticsCallback: check_every must be a positive int or None, "
                             f"got {check_every!r}")
        self.stop_on_divergence = bool(stop_on_divergence)
        self.verbose = bool(verbose)
        self.min_severity = min_severity
        self.check_every = check_every
        self.thresholds = dict(thresholds)
        self.findings = Findings()
        self.seen_at_epoch = []

    # ------------------------------------------------------------------ reporting
    def _report(self, trainer, finding, epoch):
        for i, old in enumerate(self.findings):
            if old.kind == finding.kind:
                if severity_rank(finding.severity) <= severity_rank(old.severity):
                    return
                self.findings[i], self.seen_at_epoch[i] = finding, epoch
                break
        else:
            self.findings.append(finding)
            self.seen_at_epoch.append(epoch)
        if self.verbose:
            print(f"DiagnosticsCallback (epoch {epoch}):\n{finding}")
        if finding.kind == "divergence" and self.stop_on_divergence:
            trainer.stop_training = True

    def _check(self, trainer, epoch):
        for f in diagnose(trainer.history, min_severity=self.min_severity, **self.thresholds):
            self._report(trainer, f, epoch)

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, trainer):
        if getattr(trainer, "epoch", 0) == 0:       # a fresh run; a resumed run keeps its findings
            self.findings, self.seen_at_epoch = Findings(), []

    def on_batch_end(self, trainer, step, logs):
        epoch = logs.get("epoch")
        loss, gn = logs.get("loss", 0.0), logs.get("grad_norm", 0.0)
        nonfinite = not math.isfinite(loss) or (gn is not None and not math.isfinite(gn))
        due = self.check_every is not None and step % self.check_every == 0
        if nonfinite and not any(f.kind == "divergence" and f.severity == "critical" for f in self.findings):
            due = True
        if due:
            self._check(trainer, epoch)

    def on_epoch_end(self, trainer, epoch, logs):
        self._check(trainer, epoch)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self):
        return {"findings": [f.to_dict() for f in self.findings], "seen_at_epoch": list(self.seen_at_epoch)}

    def load_state_dict(self, state):
        try:
            findings = Findings(Finding(**d) for d in state["findings"])
            seen = list(state["seen_at_epoch"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError("DiagnosticsCallback.load_state_dict expects {'findings': [...], "
                             f"'seen_at_epoch': [...]}} from state_dict(): {exc}") from exc
        if len(seen) != len(findings):
            raise ValueError("DiagnosticsCallback.load_state_dict: findings and seen_at_epoch "
                             "differ in length")
        self.findings, self.seen_at_epoch = findings, seen
