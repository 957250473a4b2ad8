"""Sphinx extension with four small fixes to the book's HTML pages (see _config.yml).

1. **Colab link.** The chapters are MyST Markdown notebooks (``book/<name>.md``). Binder and
   JupyterHub open them as notebooks through Jupytext, but Colab opens only ``.ipynb`` files from
   GitHub, so the theme's Colab link (``.../blob/<branch>/book/<name>.md``) would fail. The GitHub
   Pages workflow (``.github/workflows/book.yml``) publishes every chapter as
   ``book/<name>.ipynb`` on the branch ``colab_notebooks_branch`` (with a first cell that
   installs minigrad when it is missing); the link is rewritten to that file.
2. **Scripts added twice.** Scripts that extensions add once the builder exists (sphinx-thebe's
   ``const THEBE_JS_URL = ...``, sphinx-togglebutton's selector) end up twice on every page, and
   a second ``const`` declaration is a SyntaxError in the browser console. Each page keeps the
   first copy of identical scripts.
3. **Colour mode on a first visit.** pydata-sphinx-theme reads the reader's light/dark choice
   from localStorage and, when there is none yet, falls back to ``default_mode``; left empty, it
   logs "Got invalid theme mode" as a console error. It is set to ``auto`` (follow the system)
   unless ``html_context`` in _config.yml sets it.
4. **Widget labels and MathJax 3.** The ipywidgets HTML manager typesets widget labels with the
   MathJax 2 API (``MathJax.Hub.Queue``), which MathJax 3 does not have: every plain ipywidgets
   output on a page (a tqdm progress bar, say) threw a TypeError. A few lines of JavaScript
   forward such calls to MathJax 3's ``typesetPromise``.
"""

import re

from sphinx.application import Sphinx


def rewrite_colab_link(app: Sphinx, pagename, templatename, context, doctree):
    """Point the Colab launch button at the chapter's .ipynb on the notebooks branch."""
    branch = app.config.colab_notebooks_branch
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []):
            if button.get("text") == "Colab":
                button["url"] = re.sub(r"/blob/[^/]+/(.*)\.md$", rf"/blob/{branch}/\1.ipynb",
                                       button["url"])


def drop_duplicate_scripts(app: Sphinx, pagename, templatename, context, doctree):
    """Keep the first of identical <script> entries (same file, same attributes and body)."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (str(getattr(script, "filename", script) or ""),  # a body-only script: None or ""
               tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def default_colour_mode(app: Sphinx, config):
    """pydata-sphinx-theme's templates read ``default_mode`` from the HTML context."""
    config.html_context.setdefault("default_mode", "auto")


MATHJAX2_SHIM = """document.addEventListener("DOMContentLoaded", function () {
  var mathjax = window.MathJax;  // MathJax 3 (deferred script: loaded by now)
  if (mathjax && mathjax.startup && !mathjax.Hub) {
    mathjax.Hub = {Queue: function (job) {  // job = ["Typeset", MathJax.Hub, element]
      var element = job && job[2];
      if (element) mathjax.startup.promise.then(function () { return mathjax.typesetPromise([element]); });
    }};
  }
});"""


def setup(app: Sphinx):
    app.add_js_file(None, body=MATHJAX2_SHIM)
    app.add_config_value("colab_notebooks_branch", "notebooks", "html")
    app.connect("config-inited", default_colour_mode)
    app.connect("html-page-context", rewrite_colab_link, priority=600)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
