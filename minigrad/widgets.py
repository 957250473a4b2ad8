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

import base64
import contextlib
import hashlib
import html
import importlib
import inspect
import io
import itertools
import json
import math
import numbers
import traceback
import warnings

__all__ = ["interactive_figure"]

MAX_VALUES_PER_CONTROL = 12

_STYLE = """<style>
.mgf{margin:.5em 0 1em}
.mgf-controls{display:flex;flex-wrap:wrap;gap:.35em 1.6em;align-items:center;font-size:.9em;margin-bottom:.4em}
.mgf-control{display:inline-flex;align-items:center;gap:.5em;white-space:nowrap}
.mgf-controls label{margin:0}
.mgf-controls input[type=range]{width:11em;margin:0}
.mgf-controls output,.mgf-fixed{font-variant-numeric:tabular-nums;min-width:3.5em}
.mgf-image{display:block;max-width:100%;height:auto;background:#fff;border-radius:2px}
.mgf-text{margin:.4em 0 0;padding:.3em .5em;font-size:.85em;white-space:pre-wrap}
.mgf-note{font-size:.8em;opacity:.75;margin:.3em 0 0}
</style>"""

# Finds its figure by `document.currentScript` (the <script> sits inside the figure's <div>),
# reads the frames from the JSON block and shows the frame of the current control positions.
_SCRIPT = """<script>(function () {
  var script = document.currentScript;
  var root = (script && script.parentNode) || document.getElementById("%(id)s");
  if (!root || root.getAttribute("data-mgf-ready")) return;
  root.setAttribute("data-mgf-ready", "1");
  var data = JSON.parse(root.querySelector("script.mgf-data").textContent);
  var image = root.querySelector("img.mgf-image"), text = root.querySelector(".mgf-text");
  var inputs = root.querySelectorAll("[data-mgf-index]");
  function position(input) {
    if (input.type === "checkbox") return data.values[input.getAttribute("data-mgf-index")].indexOf(input.checked ? "True" : "False");
    return Number(input.value);
  }
  function show() {
    var flat = 0, alt = [];
    for (var c = 0; c < data.values.length; c++) {
      var input = root.querySelector('[data-mgf-index="' + c + '"]');
      var k = input ? position(input) : 0;
      flat = flat * data.values[c].length + k;
      alt.push(data.labels[c] + " = " + data.values[c][k]);
      var shown = root.querySelector('output[data-mgf-for="' + c + '"]');
      if (shown) shown.textContent = data.values[c][k];
    }
    var frame = data.frames[flat];
    image.src = "data:image/png;base64," + frame[0];
    image.alt = "Precomputed figure for " + alt.join(", ");
    text.textContent = frame[1];
    text.hidden = !frame[1];
  }
  for (var i = 0; i < inputs.length; i++) {
    inputs[i].addEventListener("input", show);
    inputs[i].addEventListener("change", show);
  }
  show();
})();</script>"""


def _require(name):
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ImportError(
            f"minigrad.widgets.interactive_figure needs {name.split('.')[0]}, which is not "
            f"installed (it is not a dependency of minigrad itself). Install it with "
            f"`pip install matplotlib ipywidgets`.") from error


def _label(value):
    """How a control value is written on the page (4 significant digits for floats)."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        return f"{float(value):.4g}"
    return str(value)


def _slider_values(widget, count):
    """`count` evenly spaced values over a slider's range (log-spaced for FloatLogSlider),
    the nearest one replaced by the slider's initial value."""
    low, high = widget.min, widget.max
    if hasattr(widget, "base"):
        points = [widget.base ** (low + (high - low) * i / (count - 1)) for i in range(count)]
    else:
        step = getattr(widget, "step", None) or (high - low) / (count - 1)
        points = [low + round((high - low) * i / (count - 1) / step) * step for i in range(count)]
    if isinstance(widget.value, numbers.Integral):
        points = [int(round(p)) for p in points]
    points = [float(f"{p:.12g}") if isinstance(p, float) else p for p in points]
    if widget.value not in points:
        points[min(range(count), key=lambda i: abs(points[i] - widget.value))] = widget.value
    return sorted(set(points))


class _Control:
    """One control: its name, label, static grid values, initial value and live widget."""

    def __init__(self, name, spec, static, default):
        self.name, self.widget, self.menu = name, None, False
        if isinstance(spec, tuple):
            raise TypeError(
                f"control {name!r}: got the tuple {spec!r}; pass a list of values, or an ipywidgets "
                f"control such as ipywidgets.FloatSlider(min=..., max=..., step=...) "
                f"((min, max, step) tuples are not supported, to avoid reading them as values)")
        if isinstance(spec, (list, range)) or type(spec).__name__ == "ndarray":
            values = [v.item() if hasattr(v, "item") else v for v in spec]
            if not values:
                raise ValueError(f"control {name!r}: the list of values is empty")
            self.values, self.label = values, name
            self.value = default if default in values else values[0]
            self.options = values
        elif hasattr(spec, "value") and hasattr(spec, "observe"):
            self.widget, self.label, self.value = spec, spec.description or name, spec.value
            options = getattr(spec, "_options_values", None)
            # a menu in Jupyter is a menu on the page (a SelectionSlider stays a slider)
            self.menu = options is not None and "Slider" not in type(spec).__name__
            if options is not None:
                self.values = list(options)
            elif isinstance(spec.value, bool):
                self.values = [False, True]
            elif hasattr(spec, "min") and hasattr(spec, "max"):
                self.values = None  # derived from the slider's range once the budget is known
            elif static is None:
                raise TypeError(f"control {name!r}: cannot derive precomputed values from a "
                                f"{type(spec).__name__}; pass static_values={{{name!r}: [...]}}")
        else:
            raise TypeError(f"control {name!r}: expected a list of values or an ipywidgets "
                            f"control, got {type(spec).__name__}")
        if static is not None:
            self.values = [v.item() if hasattr(v, "item") else v for v in static]
            if not self.values:
                raise ValueError(f"static_values[{name!r}] is empty")

    @property
    def start(self):
        """Index of the static value shown first: the live initial value, or the nearest one."""
        if self.value in self.values:
            return self.values.index(self.value)
        if isinstance(self.value, numbers.Real) and all(isinstance(v, numbers.Real) for v in self.values):
            return min(range(len(self.values)), key=lambda i: abs(self.values[i] - self.value))
        return 0

    def live_widget(self, widgets):
        if self.widget is None:
            if set(map(repr, self.options)) == {"False", "True"}:
                self.widget = widgets.Checkbox(value=bool(self.value), description=self.label)
            elif all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in self.options):
                self.widget = widgets.SelectionSlider(
                    options=[(_label(v), v) for v in self.options], value=self.value,
                    description=self.label, continuous_update=False)
            else:
                self.widget = widgets.Dropdown(options=[(_label(v), v) for v in self.options],
                                               value=self.value, description=self.label)
        return self.widget

    def html(self, index, figure_id):
        """The control on the static page: a range over the value indices, a menu or a checkbox."""
        label, labels = html.escape(self.label), [_label(v) for v in self.values]
        attrs = f'data-mgf-index="{index}" id="{figure_id}-{index}" aria-label="{label}"'
        if len(self.values) == 1:
            control = (f'{label} <span class="mgf-fixed" title="the precomputed frames use this '
                       f'value only">{html.escape(labels[0])}</span>')
        elif set(labels) == {"False", "True"}:
            checked = " checked" if self.values[self.start] is True else ""
            control = f'<input type="checkbox" {attrs}{checked}> <label for="{figure_id}-{index}">{label}</label>'
        elif self.menu or not all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                                  for v in self.values):
            options = "".join(f'<option value="{i}"{" selected" if i == self.start else ""}>'
                              f'{html.escape(text)}</option>' for i, text in enumerate(labels))
            control = f'<label for="{figure_id}-{index}">{label}</label> <select {attrs}>{options}</select>'
        else:
            control = (f'<label for="{figure_id}-{index}">{label}</label> <input type="range" {attrs} '
                       f'min="0" max="{len(self.values) - 1}" step="1" value="{self.start}">'
                       f'<output data-mgf-for="{index}">{html.escape(labels[self.start])}</output>')
        return f'<span class="mgf-control">{control}</span>'


def _render(compute, plot, params, dpi, layout=None):
    """Run compute and plot once; return (PNG bytes, what plot printed, the subplot layout).

    A figure without a layout engine gets ``tight_layout`` once (the first frame); the other
    frames reuse its margins, which keeps the axes still while the reader moves a slider and
    halves the cost of a frame (tight_layout draws the whole figure to measure it).
    """
    plt = _require("matplotlib.pyplot")
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
    new = [plt.figure(n) for n in sorted(set(plt.get_fignums()) - before)]
    if hasattr(returned, "savefig"):
        figure = returned
    else:
        first = returned.flat[0] if hasattr(returned, "flat") else returned
        figure = getattr(first, "figure", None) or (new[-1] if new else plt.gcf())
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
    for fig in set(new) | {figure}:
        plt.close(fig)
    return _palette_png(buffer.getvalue()), printed.getvalue().rstrip(), layout


def _palette_png(png):
    """The PNG with a 256-colour palette: about 4x smaller for line plots, no visible change."""
    from PIL import Image  # Pillow is a dependency of matplotlib

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


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


def _live_widget(controls, compute, plot, dpi, layout, first_png, first_text):
    widgets = _require("ipywidgets")
    inputs = [c.live_widget(widgets) for c in controls]
    image = widgets.Image(value=first_png, format="png", layout=widgets.Layout(max_width="100%"))
    text = widgets.Output()
    status = widgets.HTML("<small>live: every change runs minigrad in this kernel</small>")

    def update(_change=None):
        status.value = "<small>running…</small>"
        text.clear_output()
        try:
            params = {c.name: w.value for c, w in zip(controls, inputs)}
            png, printed, _ = _render(compute, plot, params, dpi, layout)
        except Exception:  # show the error under the figure, where the reader is looking
            with text:
                print(traceback.format_exc())
            status.value = "<small>the run failed: see the error below</small>"
            return
        image.value = png
        if printed:
            with text:
                print(printed)
        status.value = "<small>live: every change runs minigrad in this kernel</small>"

    for widget in inputs:
        widget.observe(update, names="value")
    if first_text:
        with text:
            print(first_text)
    return widgets.VBox([widgets.HBox(inputs, layout=widgets.Layout(flex_flow="row wrap")),
                         image, text, status])


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
    _require("matplotlib")
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
    controls = [_Control(name, spec, static_values.get(name), defaults.get(name))
                for name, spec in controls.items()]
    names = [c.name for c in controls]
    fixed = math.prod(len(c.values) for c in controls if c.values is not None)
    derived = [c for c in controls if c.values is None]
    if derived:
        count = int((max_frames / fixed) ** (1 / len(derived)) + 1e-9)
        count = max(2, min(MAX_VALUES_PER_CONTROL, count))
        for c in derived:
            c.values = _slider_values(c.widget, count)
    total = math.prod(len(c.values) for c in controls)
    if total > max_frames:
        raise ValueError(
            f"the precomputed grid has {total} frames ("
            + " x ".join(f"{len(c.values)} {c.name}" for c in controls)
            + f"), more than max_frames={max_frames}; pass fewer values with "
            f"static_values={{name: [...]}} (each frame is a full compute + plot at build time)")

    start = tuple(c.values[c.start] for c in controls)
    grid = list(itertools.product(*(c.values for c in controls)))
    png, text, layout = _render(compute, plot, dict(zip(names, start)), dpi)  # sets the layout
    frames = {start: (png, text)}
    for combination in grid:
        if combination not in frames:
            frames[combination] = _render(compute, plot, dict(zip(names, combination)), dpi,
                                          layout)[:2]
    frames = {combination: frames[combination] for combination in grid}

    encoded = [[base64.b64encode(png).decode("ascii"), text] for png, text in frames.values()]
    data = dict(labels=[c.label for c in controls],
                values=[[_label(v) for v in c.values] for c in controls], frames=encoded)
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    figure_id = "mgf-" + hashlib.sha1(payload.encode()).hexdigest()[:12]
    first_png, first_text = frames[start]
    controls_html = "".join(c.html(i, figure_id) for i, c in enumerate(controls))
    note = (f"Precomputed: {total} minigrad run{'s' if total > 1 else ''} made when this page was "
            f"built. Run the chapter as a notebook for the live version.")
    html_text = (
        f'{_STYLE}<div class="mgf" id="{figure_id}">'
        f'<div class="mgf-controls">{controls_html}</div>'
        f'<img class="mgf-image" src="data:image/png;base64,'
        f'{base64.b64encode(first_png).decode("ascii")}" alt="Precomputed figure">'
        f'<pre class="mgf-text"{"" if first_text else " hidden"}>{html.escape(first_text)}</pre>'
        f'<p class="mgf-note">{note}</p>'
        f'<script type="application/json" class="mgf-data">{payload}</script>'
        f'{_SCRIPT % {"id": figure_id}}</div>')
    live = _in_kernel() if live is None else live
    widget = (_live_widget(controls, compute, plot, dpi, layout, first_png, first_text)
              if live else None)
    return InteractiveFigure(html_text, frames, widget, names)
