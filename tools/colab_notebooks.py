"""Make the notebooks that the book's Colab buttons open.

Colab opens only ``.ipynb`` files from GitHub, and its machines do not have minigrad. This writes
every chapter (``book/<name>.md`` with a jupytext header) as ``<out>/book/<name>.ipynb``, with a
first code cell that installs minigrad when it cannot be imported (so it does nothing on Binder,
JupyterHub or a local checkout). ``.github/workflows/book.yml`` runs it and pushes the result to
the branch that ``colab_notebooks_branch`` in ``_config.yml`` names; the book's Colab links point
there (``tools/book_ext/page_fixes.py``).

Usage: python tools/colab_notebooks.py --out DIR --requirement 'minigrad @ git+https://...@main'
"""

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chapters_to_notebooks import is_text_notebook  # noqa: E402

SETUP = '''\
# Colab (or any Jupyter without minigrad): install minigrad from the book's repository first.
import importlib.util

if importlib.util.find_spec("minigrad") is None:
    %pip install --quiet "{requirement}"'''


def write_colab_notebooks(source, out, requirement):
    """Write each chapter under ``source`` as an .ipynb under ``out`` with the setup cell first."""
    source, out, written = Path(source), Path(out), []
    for path in sorted(source.rglob("*.md")):
        if not is_text_notebook(path):
            continue
        notebook = jupytext.read(path)
        cell = nbformat.v4.new_code_cell(SETUP.format(requirement=requirement))
        cell.metadata["tags"] = ["colab-setup"]
        notebook.cells.insert(0, cell)
        target = out / path.relative_to(source.parent).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(notebook, target, fmt="ipynb")
        written.append(target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="book", help="folder of the chapters (default: book)")
    parser.add_argument("--out", required=True, help="folder to write book/<name>.ipynb into")
    parser.add_argument("--requirement", required=True,
                        help="what the setup cell installs, e.g. 'minigrad @ git+https://...@main'")
    args = parser.parse_args(argv)
    written = write_colab_notebooks(args.source, args.out, args.requirement)
    print(f"{len(written)} notebook(s) for Colab written to {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
