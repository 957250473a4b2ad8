"""Convert the book's MyST chapters into notebooks that nbval can test.

nbval collects only ``.ipynb`` files, while the chapters are MyST Markdown text notebooks. Every
``.md`` file under the source folder whose front matter has a ``jupytext`` header becomes an
``.ipynb`` at the mirrored path under the output folder (``book/intro.md`` ->
``_build/notebooks/book/intro.ipynb``). The other files of the source folder (figures, small data)
are copied alongside, so a chapter run by nbval finds what it finds when the book build runs it.
Committed ``.ipynb`` files are not copied: they are the nbgrader assignments
(``book/assignments``), whose student versions must not run as tests (their solution cells raise
``NotImplementedError``); ``tests/test_assignments.py`` and the Makefile test them instead.
The output folder is emptied first, so a deleted chapter leaves no notebook behind.

Usage: python tools/chapters_to_notebooks.py [SOURCE ...] [--out OUT]   (default: book, _build/notebooks)
"""

import argparse
import shutil
import sys
from pathlib import Path

import jupytext
import yaml


def front_matter(path):
    """Return the YAML front matter of a Markdown file as a dict ({} when there is none)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    for end, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            header = yaml.safe_load("\n".join(lines[1:end]))
            return header if isinstance(header, dict) else {}
    raise ValueError(f"{path}: front matter opened with '---' is never closed")


def is_text_notebook(path):
    """True when ``path`` is a Markdown file with a jupytext header (a chapter that runs code)."""
    return path.suffix == ".md" and "jupytext" in front_matter(path)


def convert(sources, out):
    """Write one ``.ipynb`` per text notebook under ``sources`` into ``out``; return their paths."""
    root = Path.cwd()
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    written = []
    for source in sources:
        source = Path(source)
        if not source.is_dir():
            raise FileNotFoundError(f"source folder {source} does not exist")
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            if ".ipynb_checkpoints" in path.parts:
                continue
            target = out / path.resolve().relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            if is_text_notebook(path):
                notebook = jupytext.read(path)
                target = target.with_suffix(".ipynb")
                jupytext.write(notebook, target, fmt="ipynb")
                written.append(target)
            elif path.suffix not in {".md", ".ipynb"}:
                shutil.copy2(path, target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", default=["book"], help="folders holding chapters")
    parser.add_argument("--out", default="_build/notebooks", help="folder to write notebooks to")
    args = parser.parse_args(argv)
    written = convert(args.sources, args.out)
    print(f"{len(written)} chapter notebook(s) written to {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
