"""Render one frame of an interactive figure: run ``compute``, draw with ``plot``, save a PNG."""
from __future__ import annotations

import contextlib
import importlib
import io
import warnings

__all__ = ["render", "palette_png", "require"]


def require(name):
    """Import an optional dependency (matplotlib, ipywidgets), or say how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ImportError(
            f"minigrad.widgets.interactive_figure needs {name.split('.')[0]}, which is not "
            f"installed (it is not a dependency of minigrad itself). Install it with "
            f"`pip install matplotlib ipywidgets`.") from error


def render(compute, plot, params, dpi, layout=None):
    """Run compute and plot once; return (PNG bytes, what plot printed, the subplot layout).

    A figure without a layout engine gets ``tight_layout`` once (the first frame); the other
    frames reuse its margins, which keeps the axes still while the reader moves a slider and
    halves the cost of a frame (tight_layout draws the whole figure to measure it).
    """
    plt = require("matplotlib.pyplot")
    before = set(plt.get_fignums())
    printed = io.StringIO()
    show, plt.show = plt.show, lambda *args, **kwargs: None  # a plot() that calls show() draws only
    try:
        # Not interactive while plotting: in a notebook, interactive figures redraw at every change
        # and are queued for display after the next cell, and a live update (run from a widget's
        # message, not a cell) then saved a half-drawn figure.
        with contextlib.redirect_stdout(printed), plt.ioff():
            returned = plot(compute(**params))
    finally:
        plt.show = show
    if hasattr(returned, "savefig"):
        figure = returned
    else:
        first = returned.flat[0] if hasattr(returned, "flat") else returned
        figure = getattr(first, "figure", None) or plt.gcf()  # the figure plot() made last
    if figure.get_layout_engine() is None:
        if layout is None:
            with warnings.catch_warnings():  # tight_layout's advice on odd layouts is no error
                warnings.simplefilter("ignore")
                figure.tight_layout()
            sp = figure.subplotpars
            layout = dict(left=sp.left, right=sp.right, bottom=sp.bottom, top=sp.top,
                          wspace=sp.wspace, hspace=sp.hspace)
        else:
            figure.subplots_adjust(**layout)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    plt.close(figure)
    for number in set(plt.get_fignums()) - before:  # any other figure plot() opened
        plt.close(number)
    return palette_png(buffer.getvalue()), printed.getvalue().rstrip(), layout


def palette_png(png):
    """The PNG with a 256-colour palette: about 4x smaller for line plots, no visible change."""
    from PIL import Image  # Pillow is a dependency of matplotlib

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
