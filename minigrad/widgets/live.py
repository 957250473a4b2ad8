"""The live version of an interactive figure: ipywidgets controls that rerun compute and plot."""
from __future__ import annotations

import traceback

from .frames import render, require

__all__ = ["live_widget"]


def live_widget(controls, compute, plot, dpi, layout, first_png, first_text):
    """Controls, the image and what plot() printed; every change of a control is a new run."""
    widgets = require("ipywidgets")
    inputs = [c.live_widget(widgets) for c in controls]
    image = widgets.Image(value=first_png, format="png", layout=widgets.Layout(max_width="100%"))
    text = widgets.Output()
    status = widgets.HTML("<small>live: every change runs minigrad in this kernel</small>")

    def update(_change=None):
        status.value = "<small>running…</small>"
        text.clear_output()
        try:
            params = {c.name: w.value for c, w in zip(controls, inputs)}
            png, printed, _ = render(compute, plot, params, dpi, layout)
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
