"""Checks on the built book in ``_build/html``.

Every page of ``_toc.yml`` is built; no page loads a script, stylesheet, font or image from another
site (MathJax and the ipywidgets renderer are served from ``vendor/``, so the book reads offline);
math is typeset by the vendored MathJax; no code cell shows an error, except cells tagged
``raises-exception`` that teach one.

``make test`` builds the book just before running this file. Run on its own, the module builds the
book first (``make book``) when no passing build is newer than the book's sources.
"""

import fcntl
import hashlib
import json
import re
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
BUILD_OK = ROOT / "_build" / ".book-ok"  # written by `make book` after a build that passed
SOURCES = ["_config.yml", "_toc.yml", "book", "vendor", "minigrad", "tools/book_ext"]
# <link rel=...> values that make the browser fetch the target (the others are plain links).
FETCHING_RELS = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "manifest"}


def _newest_source_mtime():
    newest = 0.0
    for name in SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else path.rglob("*")
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and file.suffix not in {".nbi", ".nbc"}:
                newest = max(newest, file.stat().st_mtime)
    return newest


def _build_is_current():
    return BUILD_OK.is_file() and BUILD_OK.stat().st_mtime >= _newest_source_mtime()


def _ensure_book_built():
    """Run `make book` unless a passing build is newer than every source (one build at a time)."""
    lock_name = "minigrad-book-" + hashlib.sha1(str(ROOT).encode()).hexdigest()[:12] + ".lock"
    with open(Path(tempfile.gettempdir()) / lock_name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _build_is_current():
            return
        result = subprocess.run(["make", "--no-print-directory", "book"], cwd=ROOT,
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.fail("`make book` failed:\n" + (result.stdout + result.stderr)[-6000:], pytrace=False)


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pages():
    """Every built HTML page, as {path relative to _build/html: parsed page}."""
    _ensure_book_built()
    found = {}
    for path in sorted(HTML.rglob("*.html")):
        relative = path.relative_to(HTML)
        if relative.parts[0] in {"_static", "_sources"}:
            continue
        found[relative.as_posix()] = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return found


def _toc_files(entry):
    """Yield every `file:` of a _toc.yml entry (root, part, chapter or section), depth first."""
    if isinstance(entry, dict):
        if "file" in entry:
            yield entry["file"]
        if "root" in entry:
            yield entry["root"]
        for key in ("parts", "chapters", "sections"):
            for child in entry.get(key, []):
                yield from _toc_files(child)


def _fetched_urls(page):
    """Yield (tag name, URL) for everything a browser loads when it opens the page."""
    for tag in page.find_all(["script", "img", "iframe", "source", "audio", "video", "embed"]):
        if tag.get("src"):
            yield tag.name, tag["src"]
    for tag in page.find_all("link", href=True):
        if FETCHING_RELS & {rel.lower() for rel in tag.get("rel", [])}:
            yield "link", tag["href"]


def _is_off_site(url):
    parts = urlsplit(url)
    return bool(parts.scheme and parts.scheme not in {"data", "file"}) or url.startswith("//")


def _loads_static_file(page, page_name, static_path):
    """True if the page has a <script src> that resolves to _build/html/_static/<static_path>."""
    target = (HTML / "_static" / static_path).resolve()
    for tag in page.find_all("script", src=True):
        src = urlsplit(tag["src"])
        if not src.scheme and (HTML / page_name).parent.joinpath(src.path).resolve() == target:
            return True
    return False


def test_every_page_of_the_table_of_contents_is_built(pages):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = list(_toc_files(toc))
    assert toc["root"] in files and len(files) >= 2
    missing = [f for f in files if f"{Path(f).with_suffix('').as_posix()}.html" not in pages]
    assert not missing, f"pages listed in _toc.yml but not built: {missing}"
    assert "index.html" in pages, "the book has no index.html (it should redirect to the root page)"


def test_no_page_loads_anything_from_another_site(pages):
    off_site = [f"{name}: <{tag}> {url}" for name, page in pages.items()
                for tag, url in _fetched_urls(page) if _is_off_site(url)]
    assert not off_site, "pages load files from the network (vendor them instead):\n" + "\n".join(off_site)


def test_every_file_a_page_loads_exists(pages):
    missing = []
    for name, page in pages.items():
        for tag, url in _fetched_urls(page):
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//") or not parts.path:
                continue
            if not (HTML / name).parent.joinpath(parts.path).resolve().is_file():
                missing.append(f"{name}: <{tag}> {url}")
    assert not missing, "pages load files that are not in the build:\n" + "\n".join(missing)


def test_math_is_typeset_by_the_vendored_mathjax(pages, config):
    mathjax = config["sphinx"]["config"]["mathjax_path"]
    assert not _is_off_site(mathjax), f"mathjax_path {mathjax!r} must be a file under vendor/"
    assert (HTML / "_static" / mathjax).is_file(), f"{mathjax} was not copied into _build/html/_static"
    with_math = [name for name, page in pages.items() if page.select(".math")]
    assert "book/intro.html" in with_math, "the intro's displayed equation was not rendered as math"
    without_mathjax = [name for name in with_math if not _loads_static_file(pages[name], name, mathjax)]
    assert not without_mathjax, f"pages with math that do not load {mathjax}: {without_mathjax}"


def test_pages_with_widgets_load_the_vendored_widget_renderer(pages, config):
    renderers = list(config["sphinx"]["config"]["nb_ipywidgets_js"])
    assert renderers, "nb_ipywidgets_js is empty: widget pages would render nothing"
    for path in renderers:
        assert not _is_off_site(path), f"nb_ipywidgets_js entry {path!r} must be a file under vendor/"
        assert (HTML / "_static" / path).is_file(), f"{path} was not copied into _build/html/_static"
    for name, page in pages.items():
        if page.find("script", type="application/vnd.jupyter.widget-state+json"):
            absent = [path for path in renderers if not _loads_static_file(page, name, path)]
            assert not absent, f"{name} has widget state but does not load {absent}"


def test_no_code_cell_shows_an_error(pages):
    shown = []
    for name, page in pages.items():
        for cell in page.select("div.cell"):
            if "tag_raises-exception" in cell.get("class", []):
                continue
            for output in cell.select("div.output.traceback, div.output.stderr"):
                text = output.get_text()
                if "traceback" in output["class"] or "Traceback" in text or "Error" in text:
                    shown.append(f"{name}: {text.strip().splitlines()[-1][:200]}")
    assert not shown, "cells show errors (tag a cell `raises-exception` if it teaches one):\n" + "\n".join(shown)


def test_bibliography_lists_the_cited_works(pages):
    page = pages["book/bibliography.html"]
    entries = page.select(".citation")
    assert entries, "the bibliography page lists no work"
    cited = {a["href"].split("#")[1] for p in pages.values() for a in p.select("a[href*='bibliography.html#']")}
    listed = {entry.get("id") for entry in entries}
    assert cited <= listed, f"citations that point to no bibliography entry: {sorted(cited - listed)}"


def _notebook_pages():
    """(page name, source path) of every page of _toc.yml whose source is a MyST notebook."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    for entry in _toc_files(toc):
        name = Path(entry).with_suffix("").as_posix()
        source = ROOT / f"{name}.md"
        if source.is_file() and source.read_text(encoding="utf-8").startswith("---\njupytext:"):
            yield name, source


def test_chapters_offer_their_executed_notebook_for_download(pages):
    import jupytext
    import nbformat

    for name, source in _notebook_pages():
        page = pages[f"{name}.html"]
        links = [a["href"] for a in page.select("a[href$='.ipynb']")]
        expected = f"_sources/{name}.ipynb"
        assert any(urlsplit(link).path.endswith(expected) for link in links), \
            f"{name}.html has no download link to {expected}: {links}"
        notebook = nbformat.read(HTML / expected, as_version=4)
        code = [c.source for c in notebook.cells if c.cell_type == "code"]
        assert code == [c.source for c in jupytext.read(source).cells if c.cell_type == "code"], \
            f"{expected} is not the notebook of {source.name}"
        assert any(c.get("outputs") for c in notebook.cells if c.cell_type == "code"), \
            f"{expected} has no outputs: it should be the executed notebook"


def test_chapters_have_launch_buttons(pages, config):
    repository = config["repository"]["url"].removeprefix("https://github.com/")
    branch = config["repository"]["branch"]
    launch = config["launch_buttons"]
    colab_branch = config["sphinx"]["config"]["colab_notebooks_branch"]
    for name, _ in _notebook_pages():
        page = pages[f"{name}.html"]
        hrefs = [a["href"] for a in page.select(".dropdown-launch-buttons a[href]")]
        wanted = {
            "Binder": f"{launch['binderhub_url']}/v2/gh/{repository}/{branch}?urlpath=lab/tree/{name}.md",
            "Colab": f"{launch['colab_url']}/github/{repository}/blob/{colab_branch}/{name}.ipynb",
            "JupyterHub": f"{launch['jupyterhub_url']}/hub/user-redirect/git-pull?repo=",
        }
        for provider, prefix in wanted.items():
            assert any(h.startswith(prefix) for h in hrefs), f"{name}: no {provider} link {prefix}: {hrefs}"
        assert page.select("button[onclick*='initThebe']"), f"{name}: no Live code (Thebe) button"


def test_interactive_figures_show_their_precomputed_version(pages):
    import jupytext

    for name, source in _notebook_pages():
        calls = sum(c.cell_type == "code" and "interactive_figure(" in c.source
                    for c in jupytext.read(source).cells)
        figures = pages[f"{name}.html"].select("div.mgf")
        assert len(figures) == calls, f"{name}: {calls} interactive_figure calls, {len(figures)} figures"
        for figure in figures:
            cell = figure.find_parent("div", class_="cell")
            assert not cell.select("script[type='application/vnd.jupyter.widget-view+json']"), \
                f"{name}: the page shows the live widget's inert controls next to the figure"
            assert figure.select("img.mgf-image") and figure.select("[data-mgf-index]")


def test_no_page_includes_a_script_twice(pages):
    for name, page in pages.items():
        seen = []
        for script in (page.head or page).find_all("script"):
            key = urlsplit(script["src"]).path if script.get("src") else script.string or ""
            if key.strip():
                assert key not in seen, f"{name} includes this script twice: {key[:120]}"
                seen.append(key)


# ipywidgets models a reader would try to move: on a page without a kernel they cannot respond.
INPUT_MODELS = re.compile(r"(Slider|Dropdown|Checkbox|ToggleButtons?|RadioButtons|Select|Text|"
                          r"Textarea|Button|Play|Combobox|Picker)Model$")


def test_no_page_shows_widget_controls_that_cannot_respond(pages):
    """Plain ipywidgets controls render on the page from the saved state but do nothing there;
    minigrad.widgets.interactive_figure shows a precomputed version instead (book/interactive.md).
    Outputs without controls (a tqdm progress bar) are fine."""
    inert = []
    for name, page in pages.items():
        state_tag = page.find("script", type="application/vnd.jupyter.widget-state+json")
        views = page.find_all("script", type="application/vnd.jupyter.widget-view+json")
        if not state_tag or not views:
            continue
        models = json.loads(state_tag.string)["state"]
        for view in views:
            todo = [json.loads(view.string)["model_id"]]
            while todo:
                model = models.get(todo.pop(), {})
                if INPUT_MODELS.search(model.get("model_name", "")):
                    inert.append(f"{name}: {model['model_name']} "
                                 f"{model.get('state', {}).get('description', '')!r}")
                    break
                todo += [c.removeprefix("IPY_MODEL_") for c in model.get("state", {}).get("children", [])]
    assert not inert, ("pages show ipywidgets controls that do nothing without a kernel; make the "
                       "figure with minigrad.widgets.interactive_figure:\n" + "\n".join(inert))
