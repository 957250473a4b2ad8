"""The precomputed version of an interactive figure: self-contained HTML and a little JavaScript.

One ``<div class="mgf">`` holds the controls (an ``<input type=range>`` over the indices of each
control's values, a ``<select>`` or a checkbox), the first frame as an ``<img>`` (so the figure
shows even where scripts do not run, such as GitHub's notebook viewer), the frames as JSON, and a
script that shows the frame of the current control positions. No library, no network.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json

from .controls import value_label

__all__ = ["static_html"]

STYLE = """<style>
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
SCRIPT = """<script>(function () {
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



def static_html(controls, frames, start):
    """The page version of a figure: ``frames`` maps value tuples (grid order) to (PNG, text)."""
    encoded = [[base64.b64encode(png).decode("ascii"), text] for png, text in frames.values()]
    data = dict(labels=[c.label for c in controls],
                values=[[value_label(v) for v in c.values] for c in controls], frames=encoded)
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    figure_id = "mgf-" + hashlib.sha1(payload.encode()).hexdigest()[:12]  # stable across builds
    first_png, first_text = frames[start]
    controls_html = "".join(c.html(i, figure_id) for i, c in enumerate(controls))
    total = len(frames)
    note = (f"Precomputed: {total} minigrad run{'s' if total > 1 else ''} made when this page was "
            f"built. Run the chapter as a notebook for the live version.")
    return (
        f'{STYLE}<div class="mgf" id="{figure_id}">'
        f'<div class="mgf-controls">{controls_html}</div>'
        f'<img class="mgf-image" src="data:image/png;base64,'
        f'{base64.b64encode(first_png).decode("ascii")}" alt="Precomputed figure">'
        f'<pre class="mgf-text"{"" if first_text else " hidden"}>{html.escape(first_text)}</pre>'
        f'<p class="mgf-note">{note}</p>'
        f'<script type="application/json" class="mgf-data">{payload}</script>'
        f'{SCRIPT % {"id": figure_id}}</div>')
