"""The files that publish the book, checked without building it: the vendored JavaScript is the
pinned release (SHA-256 sums), the Binder environment agrees with requirements.txt, the GitHub
Pages workflow builds with `make book` and deploys _build/html, and the notebooks for Colab get
their setup cell."""

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pins(path):
    """{package name: full requirement line} of a requirements file (comments, options dropped)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            pins[re.split(r"[=<>!~\[ ]", line)[0].lower().replace("_", "-")] = line.replace(" ", "")
    return pins


def test_vendored_files_are_the_pinned_releases_with_their_licences():
    sums = (ROOT / "vendor" / "SHA256SUMS").read_text(encoding="utf-8").split("\n")
    listed = {}
    for line in filter(None, sums):
        digest, name = line.split(maxsplit=1)
        listed[name] = digest
    present = {p.relative_to(ROOT / "vendor").as_posix() for p in (ROOT / "vendor").rglob("*")
               if p.is_file() and p.name != "SHA256SUMS"}
    assert set(listed) == present, "vendor/SHA256SUMS is out of date: run tools/vendor_js.sh"
    for name, digest in listed.items():
        actual = hashlib.sha256((ROOT / "vendor" / name).read_bytes()).hexdigest()
        assert actual == digest, f"vendor/{name} differs from the pinned release"
    for folder in ("mathjax", "jupyter-widgets"):
        assert f"{folder}/LICENSE" in listed and f"{folder}/VERSION" in listed
    assert not (ROOT / "_static").exists(), (
        "a root _static/ folder makes Jupyter Book add every .js under the static paths to every "
        "page (MathJax would load twice): keep vendored files in vendor/")


def test_binder_environment_pins_what_the_book_pins():
    binder, book = _pins(ROOT / "binder" / "requirements.txt"), _pins(ROOT / "requirements.txt")
    for name in ("numpy", "numba", "matplotlib", "ipywidgets", "jupytext", "scikit-learn"):
        assert name in binder, f"binder/requirements.txt lacks {name}, which the chapters use"
        assert binder[name] == book[name], f"binder pins {binder[name]}, requirements.txt {book[name]}"
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-3\.1[1-9]", runtime), runtime
    post_build = ROOT / "binder" / "postBuild"
    assert post_build.stat().st_mode & 0o111, "binder/postBuild must be executable"
    text = post_build.read_text(encoding="utf-8")
    assert "pip install" in text and "-e ." in text
    assert "tools/jupyterlab/jupytext-default-viewers.json" in text
    assert (ROOT / "tools/jupyterlab/jupytext-default-viewers.json").is_file()


def test_pages_workflow_builds_with_make_book_and_deploys_the_html():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text(encoding="utf-8"))
    trigger = workflow.get("on", workflow.get(True))   # YAML 1.1 reads the key `on` as True
    assert trigger["push"]["branches"] == ["main"]
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    runs = [step.get("run", "") for step in build["steps"]]
    uses = {step.get("uses", "").split("@")[0]: step for step in build["steps"]}
    assert any(run.strip() == "make book" for run in runs)
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert any("tools/colab_notebooks.py" in run and "notebooks" in run for run in runs)
    assert deploy["needs"] == "build"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert {"pages", "id-token"} <= set(workflow["permissions"])
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert any("push -f" in run and config["sphinx"]["config"]["colab_notebooks_branch"] in run
               for run in runs)


def test_colab_notebooks_install_minigrad_first(tmp_path):
    requirement = "minigrad @ git+https://github.com/minigrad/minigrad-book@main"
    subprocess.run([sys.executable, "tools/colab_notebooks.py", "--out", str(tmp_path),
                    "--requirement", requirement], cwd=ROOT, check=True, capture_output=True)
    notebook = nbformat.read(tmp_path / "book" / "interactive.ipynb", as_version=4)
    setup = notebook.cells[0]
    assert setup.cell_type == "code" and f'%pip install --quiet "{requirement}"' in setup.source
    assert 'find_spec("minigrad") is None' in setup.source
    assert any("interactive_figure(" in cell.source for cell in notebook.cells[1:])
    assert not (tmp_path / "book" / "bibliography.ipynb").exists()   # not a notebook page
