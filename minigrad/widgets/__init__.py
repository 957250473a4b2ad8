r"""Interactive figures that respond both live in Jupyter and on the static pages of the book.

A chapter's widget is two plain functions: ``compute(**params)`` runs minigrad and returns the
numbers (no plotting), ``plot(result)`` draws them with matplotlib. :func:`interactive_figure`
turns the pair into one output with two representations of the same figure:

* ``text/html``: every combination of a small grid of control values is computed and plotted
  when the cell runs, and the PNGs are embedded with a few lines of JavaScript that switch the
  image when a slider or menu moves. It needs no kernel and no network, so it works on the
  built web page, in a saved notebook and in nbviewer (there without the switching).
* ``application/vnd.jupyter.widget-view+json`` (only when a kernel runs the cell): ipywidgets
  controls whose every change calls ``compute`` and ``plot`` again, a real minigrad run.

Jupyter, Colab and VS Code show the richest representation they can render, the live widget; the
book's HTML builder is configured (``nb_mime_priority_overrides`` in ``_config.yml``) to prefer
``text/html``, so the page shows the precomputed version. Never both.

>>> def compute(lr=0.5):                       # a real run would use minigrad
...     return [(1 - lr) ** t for t in range(10)]
>>> def plot(result):
...     import matplotlib.pyplot as plt
...     fig, ax = plt.subplots(figsize=(3, 2))
...     ax.semilogy(result)
...     return fig
>>> figure = interactive_figure(compute, plot, {"lr": [0.1, 0.5, 0.9]}, live=False)
>>> len(figure.frames)
3

matplotlib (frames) and ipywidgets (live controls) are imported only when this is called; they
are not dependencies of minigrad itself.
"""
from __future__ import annotations

import inspect
import itertools
import math

from .controls import MAX_VALUES_PER_CONTROL, Control, slider_values
from .frames import render, require
from .live import live_widget
from .page import static_html

__all__ = ["interactive_figure"]


class InteractiveFigure:
    """What :func:`interactive_figure` returns: display it (last expression of a cell).

    ``frames`` maps each precomputed parameter combination (a tuple in control order) to
    ``(png_bytes, printed_text)``; ``widget`` is the live ipywidgets box, or None without a kernel.
    """

    def __init__(self, html_text, frames, widget, names):
        self.html, self.frames, self.widget, self.names = html_text, frames, widget, names

    def __repr__(self):
        return (f"<interactive figure over {', '.join(self.names)}: {len(self.frames)} "
                f"precomputed frames{', live widget' if self.widget is not None else ''}>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {}
        if self.widget is not None:
            bundle.update(self.widget._repr_mimebundle_())
        bundle.update({"text/html": self.html, "text/plain": repr(self)})
        return bundle


def _in_kernel():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def interactive_figure(compute, plot, controls, *, static_values=None, max_frames=40, dpi=100,
                       live=None):
    r"""Make an interactive figure from a compute function and a plot function.

    Args:
        compute: ``compute(**params) -> result``, deterministic, no plotting (a minigrad run).
        plot: ``plot(result)`` draws one matplotlib figure and returns it (or its axes); it
            must not depend on anything but ``result``. What it prints is shown under the figure.
        controls: ``{parameter name: spec}`` in display order. A spec is a list of values (live:
            a slider over them, a menu for text, a checkbox for ``[False, True]``; the first
            frame uses ``compute``'s default when it is in the list) or an ipywidgets control
            (``FloatSlider``, ``FloatLogSlider``, ``IntSlider``, ``Dropdown``, ``Checkbox``,
            ...) whose ``description`` is the label.
        static_values: ``{name: list}``: the values precomputed for the page, when they should
            differ from the control's (a slider's default is up to 12 evenly spaced values
            within ``max_frames``; a single value fixes that parameter on the page).
        max_frames: upper bound on the number of precomputed frames (their product).
        dpi: resolution of the PNG frames.
        live: add the live ipywidgets version; default: when a Jupyter kernel runs the code.

    Returns:
        An :class:`InteractiveFigure`; make it the last expression of the cell (or ``display`` it).

    Raises:
        ValueError: when the grid of precomputed values exceeds ``max_frames``.
        ImportError: when matplotlib (or, for the live version, ipywidgets) is missing.

    Example::

        interactive_figure(compute_gd_bowl, plot_gd_bowl, {
            "lr": ipywidgets.FloatSlider(value=1.8, min=0.05, max=2.2, step=0.05,
                                         description="lr × L"),
            "kappa": [2, 10, 20, 100]},
            static_values={"lr": [0.1, 0.5, 1.0, 1.5, 1.8, 1.95, 2.05]})
    """
    require("matplotlib")
    if not controls:
        raise ValueError("interactive_figure needs at least one control, e.g. {'lr': [0.1, 1.0]}")
    static_values = dict(static_values or {})
    unknown = set(static_values) - set(controls)
    if unknown:
        raise ValueError(f"static_values names {sorted(unknown)}, which are not controls "
                         f"(controls: {list(controls)})")
    try:
        defaults = {k: p.default for k, p in inspect.signature(compute).parameters.items()
                    if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        defaults = {}
    controls = [Control(name, spec, static_values.get(name), defaults.get(name))
                for name, spec in controls.items()]
    names = [c.name for c in controls]
    fixed = math.prod(len(c.values) for c in controls if c.values is not None)
    derived = [c for c in controls if c.values is None]
    if derived:
        count = int((max_frames / fixed) ** (1 / len(derived)) + 1e-9)
        count = max(2, min(MAX_VALUES_PER_CONTROL, count))
        for c in derived:
            c.values = slider_values(c.widget, count)
    total = math.prod(len(c.values) for c in controls)
    if total > max_frames:
        raise ValueError(
            f"the precomputed grid has {total} frames ("
            + " x ".join(f"{len(c.values)} {c.name}" for c in controls)
            + f"), more than max_frames={max_frames}; pass fewer values with "
            f"static_values={{name: [...]}} (each frame is a full compute + plot at build time)")

    start = tuple(c.values[c.start] for c in controls)
    grid = list(itertools.product(*(c.values for c in controls)))
    png, text, layout = render(compute, plot, dict(zip(names, start)), dpi)  # sets the layout
    frames = {start: (png, text)}
    for combination in grid:
        if combination not in frames:
            frames[combination] = render(compute, plot, dict(zip(names, combination)), dpi,
                                         layout)[:2]
    frames = {combination: frames[combination] for combination in grid}

    html_text = static_html(controls, frames, start)
    first_png, first_text = frames[start]
    live = _in_kernel() if live is None else live
    widget = (live_widget(controls, compute, plot, dpi, layout, first_png, first_text)
              if live else None)
    return InteractiveFigure(html_text, frames, widget, names)
