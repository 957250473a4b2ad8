"""The controls of an interactive figure: precomputed values, live ipywidget, page HTML."""
from __future__ import annotations

import html
import numbers

__all__ = ["Control", "value_label", "slider_values", "MAX_VALUES_PER_CONTROL"]

MAX_VALUES_PER_CONTROL = 12


def value_label(value):
    """How a control value is written on the page (4 significant digits for floats)."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        return f"{float(value):.4g}"
    return str(value)


def slider_values(widget, count):
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


class Control:
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
                    options=[(value_label(v), v) for v in self.options], value=self.value,
                    description=self.label, continuous_update=False)
            else:
                self.widget = widgets.Dropdown(options=[(value_label(v), v) for v in self.options],
                                               value=self.value, description=self.label)
        return self.widget

    def html(self, index, figure_id):
        """The control on the static page: a range over the value indices, a menu or a checkbox."""
        caption, labels = html.escape(self.label), [value_label(v) for v in self.values]
        attrs = f'data-mgf-index="{index}" id="{figure_id}-{index}" aria-label="{caption}"'
        if len(self.values) == 1:
            control = (f'{caption} <span class="mgf-fixed" title="the precomputed frames use this '
                       f'value only">{html.escape(labels[0])}</span>')
        elif set(labels) == {"False", "True"}:
            checked = " checked" if self.values[self.start] is True else ""
            control = f'<input type="checkbox" {attrs}{checked}> <label for="{figure_id}-{index}">{caption}</label>'
        elif self.menu or not all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                                  for v in self.values):
            options = "".join(f'<option value="{i}"{" selected" if i == self.start else ""}>'
                              f'{html.escape(text)}</option>' for i, text in enumerate(labels))
            control = f'<label for="{figure_id}-{index}">{caption}</label> <select {attrs}>{options}</select>'
        else:
            control = (f'<label for="{figure_id}-{index}">{caption}</label> <input type="range" {attrs} '
                       f'min="0" max="{len(self.values) - 1}" step="1" value="{self.start}">'
                       f'<output data-mgf-for="{index}">{html.escape(labels[self.start])}</output>')
        return f'<span class="mgf-control">{control}</span>'
