"""minigrad.widgets.interactive_figure: the precomputed grid, the static HTML, the live widget.

The JavaScript of the static version is exercised in a real browser by tests/test_browser.py.
"""

import base64
import itertools
import json
import re
import subprocess
import sys

import ipywidgets as widgets
import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from minigrad.widgets import interactive_figure  # noqa: E402

CALLS = []


def compute(lr=0.5, kind="a", flag=False):
    CALLS.append((lr, kind, flag))
    return dict(lr=lr, kind=kind, flag=flag, curve=[(1 - lr) ** t for t in range(6)])


def plot(result):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot(result["curve"], color="C1" if result["flag"] else "C0")
    ax.set_title(f"{result['kind']} {result['lr']}")
    print(f"lr={result['lr']} kind={result['kind']} flag={result['flag']}")
    return ax


def _payload(figure):
    text = re.search(r'<script type="application/json" class="mgf-data">(.*?)</script>',
                     figure.html, re.S).group(1)
    return json.loads(text.replace("<\\/", "</"))


@pytest.fixture(autouse=True)
def _clean():
    CALLS.clear()
    yield
    plt.close("all")


def test_every_combination_is_computed_once_in_grid_order():
    figure = interactive_figure(compute, plot, {"lr": [0.1, 0.5, 0.9], "kind": ["a", "b"],
                                                "flag": [False, True]}, dpi=20, live=False)
    grid = list(itertools.product([0.1, 0.5, 0.9], ["a", "b"], [False, True]))
    assert list(figure.frames) == grid
    assert sorted(CALLS) == sorted(grid) and len(CALLS) == 12
    data = _payload(figure)
    assert data["labels"] == ["lr", "kind", "flag"]
    assert data["values"] == [["0.1", "0.5", "0.9"], ["a", "b"], ["False", "True"]]
    # the page's script indexes frames row-major (flat = flat * len + k): same order as the grid
    for (png, text), (encoded, shown) in zip(figure.frames.values(), data["frames"]):
        assert base64.b64decode(encoded) == png and shown == text
    assert figure.frames[(0.9, "b", True)][1] == "lr=0.9 kind=b flag=True"
    assert len({png for png, _ in figure.frames.values()}) == 12   # every frame differs
    assert plt.get_fignums() == []                                  # no figure left open


def test_first_frame_is_computes_default_or_the_widgets_value():
    figure = interactive_figure(compute, plot, {"lr": [0.1, 0.5, 0.9]}, dpi=20, live=False)
    shown = re.search(r'<img class="mgf-image" src="data:image/png;base64,([^"]+)"', figure.html).group(1)
    assert base64.b64decode(shown) == figure.frames[(0.5,)][0]       # compute's default lr=0.5
    assert 'value="1"' in figure.html
    slider = widgets.FloatSlider(value=0.3, min=0.0, max=1.0, step=0.05, description="rate")
    figure = interactive_figure(compute, plot, {"lr": slider}, dpi=20, live=False)
    values = [v for (v,) in figure.frames]
    assert 0.3 in values and len(values) == 12 and min(values) >= 0 and max(values) <= 1
    assert all(abs(v / 0.05 - round(v / 0.05)) < 1e-9 for v in values)   # on the slider's steps
    assert _payload(figure)["labels"] == ["rate"]


def test_static_values_limit_the_grid_and_a_single_value_is_shown_fixed():
    figure = interactive_figure(
        compute, plot,
        {"lr": widgets.FloatLogSlider(value=0.1, base=10, min=-3, max=0), "kind": ["a", "b"]},
        static_values={"kind": ["b"]}, max_frames=8, dpi=20, live=False)
    assert {k for _, k in figure.frames} == {"b"} and len(figure.frames) == 8
    assert 'class="mgf-fixed"' in figure.html and "<select" not in figure.html
    lrs = sorted(lr for lr, _ in figure.frames)
    assert lrs[0] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(1.0) and 0.1 in lrs


def test_controls_on_the_page_match_the_live_kind():
    figure = interactive_figure(
        compute, plot,
        {"lr": [0.1, 0.5], "kind": widgets.Dropdown(options=["a", "b"]),
         "flag": widgets.Checkbox(value=True, description="flag")}, dpi=20, live=False)
    assert figure.html.count('type="range"') == 1 and figure.html.count("<select") == 1
    assert 'type="checkbox" data-mgf-index="2"' in figure.html and " checked>" in figure.html


def test_bad_controls_are_refused_with_the_fix():
    with pytest.raises(TypeError, match="pass a list of values"):
        interactive_figure(compute, plot, {"lr": (0.1, 1.0, 0.1)})
    with pytest.raises(ValueError, match=r"41 frames \(41 lr\), more than max_frames=40"):
        interactive_figure(compute, plot, {"lr": [i / 100 for i in range(41)]})
    with pytest.raises(ValueError, match="static_values names \\['rate'\\]"):
        interactive_figure(compute, plot, {"lr": [0.1]}, static_values={"rate": [0.1]})
    with pytest.raises(ValueError, match="is empty"):
        interactive_figure(compute, plot, {"lr": []})
    with pytest.raises(TypeError, match="expected a list of values or an ipywidgets control"):
        interactive_figure(compute, plot, {"lr": 0.5})
    assert CALLS == []   # nothing was computed before the check


def test_live_widget_recomputes_and_shows_errors():
    figure = interactive_figure(compute, plot, {"lr": widgets.FloatSlider(value=0.5, min=0, max=1),
                                                "kind": ["a", "b"]},
                                static_values={"lr": [0.5]}, dpi=20, live=True)
    bundle = figure._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", "application/vnd.jupyter.widget-view+json"}
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == figure.widget.model_id
    controls, image = figure.widget.children[0].children, figure.widget.children[1]
    first = image.value
    CALLS.clear()
    controls[0].value = 0.75                  # a value that was not precomputed: a real run
    assert CALLS == [(0.75, "a", False)] and image.value != first
    assert "live" in figure.widget.children[3].value

    def broken(lr, kind):
        raise RuntimeError("the run diverged")
    failing = interactive_figure(lambda lr, kind: compute(lr, kind) if lr < 1 else broken(lr, kind),
                                 plot, {"lr": [0.5, 2.0], "kind": ["a"]}, static_values={"lr": [0.5]},
                                 dpi=20, live=True)
    before = failing.widget.children[1].value
    failing.widget.children[0].children[0].value = 2.0   # the traceback goes under the figure
    assert "the run failed" in failing.widget.children[3].value
    assert failing.widget.children[1].value == before


def test_without_a_kernel_only_the_static_representations():
    figure = interactive_figure(compute, plot, {"lr": [0.1]}, dpi=20)
    assert figure.widget is None
    assert set(figure._repr_mimebundle_()) == {"text/plain", "text/html"}
    assert "1 precomputed frames" in repr(figure)


def test_plot_calling_show_draws_nothing_extra():
    def plot_and_show(result):
        ax = plot(result)
        plt.show()
        return ax
    figure = interactive_figure(compute, plot_and_show, {"lr": [0.1, 0.2]}, dpi=20, live=False)
    assert len(figure.frames) == 2 and plt.get_fignums() == []


def test_importing_minigrad_imports_no_plotting_and_missing_matplotlib_is_explained():
    code = ("import sys, minigrad, minigrad.widgets\n"
            "assert 'matplotlib' not in sys.modules and 'ipywidgets' not in sys.modules\n"
            "sys.modules['matplotlib'] = None\n"
            "try:\n"
            "    minigrad.widgets.interactive_figure(lambda: 0, print, {'x': [1]})\n"
            "except ImportError as error:\n"
            "    print(error)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "needs matplotlib" in out.stdout and "pip install matplotlib ipywidgets" in out.stdout
