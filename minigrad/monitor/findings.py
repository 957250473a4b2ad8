"""``Finding``: one diagnosed problem of a training run, with the evidence and what to do."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

__all__ = ["Finding", "Findings", "SEVERITIES", "KINDS"]

#: Severity levels, from least to most serious.
SEVERITIES = ("info", "warning", "critical")

#: The patterns :func:`~minigrad.monitor.diagnose` looks for.
KINDS = ("divergence", "oscillation", "plateau", "exploding_gradients", "vanishing_gradients",
         "overfitting")


def severity_rank(severity):
    """0 for 'info', 1 for 'warning', 2 for 'critical'; a clear error for anything else."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}") from None


def _fmt(v):
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.4g}"
    return repr(v) if isinstance(v, str) else str(v)


@dataclass
class Finding:
    """One problem seen in a training run.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    severity : str
        ``'info'`` (worth knowing), ``'warning'`` (the run is wasting time or will
        generalize badly) or ``'critical'`` (the run is broken).
    message : str
        The diagnosis in plain language, with the numbers that support it.
    action : str
        What to try next.
    step, epoch : int or None
        Where the pattern starts (global optimizer step, starting at 1; epoch, starting at 1).
    evidence : dict
        The measured numbers behind the diagnosis (names documented per check).

    ``str(finding)`` is a short readable report; ``print(finding)`` in a notebook.
    """

    kind: str
    severity: str
    message: str
    action: str
    step: int | None = None
    epoch: int | None = None
    evidence: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Finding: kind must be one of {KINDS}, got {self.kind!r}")
        severity_rank(self.severity)

    @property
    def where(self):
        """``'epoch 3 (step 120)'``, ``'step 17'`` or ``''``."""
        if self.epoch is not None and self.step is not None:
            return f"epoch {self.epoch} (step {self.step})"
        if self.epoch is not None:
            return f"epoch {self.epoch}"
        return f"step {self.step}" if self.step is not None else ""

    def __str__(self):
        head = f"[{self.severity.upper()}] {self.kind.replace('_', ' ')}"
        if self.where:
            head += f" from {self.where}"
        lines = [head, f"  Diagnosis: {self.message}", f"  Action:    {self.action}"]
        if self.evidence:
            lines.append("  Evidence:  " + ", ".join(f"{k}={_fmt(v)}" for k, v in self.evidence.items()))
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle):       # IPython / Jupyter display
        p.text(str(self))

    def to_dict(self):
        """A plain dict (for checkpoints and logs)."""
        return asdict(self)


class Findings(list):
    """A ``list`` of :class:`Finding` that prints as a readable report (empty: "no problems found")."""

    def __str__(self):
        if not self:
            return "No problems found."
        return "\n\n".join(str(f) for f in self)

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))

    def kinds(self):
        """The kinds found, in order (handy in asserts: ``'plateau' in findings.kinds()``)."""
        return [f.kind for f in self]
