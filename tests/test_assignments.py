"""The course assignments (``book/assignments``), generated and autograded end to end with nbgrader.

For every assignment ``book/assignments/source/<name>/<name>.ipynb``, in a temporary copy of the
course directory (so the real one gets no gradebook), one class of tests checks that:

* ``nbgrader generate_assignment`` makes a student version that is byte for byte the committed
  ``book/assignments/release/<name>/<name>.ipynb`` (the copy the book publishes; refresh it with
  ``make assignments``), with no solution, hidden test or mark scheme left in it;
* one ``nbgrader autograde`` run grades three submissions:

  - the source notebook itself: full marks on every autograded cell, and no cell fails;
  - the student version as released: zero on the autograded cells, and it runs without crashing
    (every cell executes; only solution cells, which raise ``NotImplementedError``, and test cells
    fail);
  - a partly wrong submission, made from the student version by filling in the source's solutions
    with one realistic mistake (``MISTAKES``): exactly the tests that the mistake breaks fail, each
    with a message that says what is wrong, and the score is the rest of the marks.

The source notebooks also run under nbval in ``make test`` (the Makefile passes
``book/assignments/source`` to pytest). Each assignment is one test class, so that
``pytest -n 2 --dist loadscope`` grades different assignments on different workers.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "book" / "assignments"
SOURCE = COURSE / "source"
RELEASE = COURSE / "release"
ASSIGNMENTS = sorted(p.name for p in SOURCE.iterdir() if (p / f"{p.name}.ipynb").is_file())

# One realistic mistake per assignment: (solution cell, text of its solution, what a student
# wrote instead, the test cells that must then fail).
MISTAKES = {
    "backward_rules": ("my_mul", "unbroadcast(g * b.data, a.shape), unbroadcast(g * a.data, b.shape)",
                       "g * b.data, g * a.data", {"test_my_mul"}),
    "momentum": ("momentum_kernel", "g = g + momentum * b", "g = b",
                 {"test_nesterov_and_weight_decay", "test_momentum_sgd"}),
    "adam": ("adam_update", "param *= 1 - lr * weight_decay", "param *= 1 - weight_decay",
             {"test_adamw", "test_my_adam", "test_decay_experiment"}),
    "lr_schedules": ("warmup_cosine", "base_lr * (step + 1) / warmup_steps", "base_lr * step / warmup_steps",
                     {"test_warmup_cosine"}),
    "normalization_batch_size": ("standardize", "(X_test - mean) / std",
                                 "(X_test - X_test.mean(axis=0)) / X_test.std(axis=0)", {"test_standardize"}),
}
STUDENTS = ("solution", "unmodified", "partial")
SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def is_solution(cell):
    return nbgrader_meta(cell).get("solution", False)


def is_test(cell):
    meta = nbgrader_meta(cell)
    return meta.get("grade", False) and not meta.get("solution", False)


def read(path):
    return nbformat.read(str(path), as_version=4)


def nbgrader(args, course):
    """Run an nbgrader command in ``course`` (its nbgrader_config.py makes it the course root)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{(result.stdout + result.stderr)[-5000:]}")


def partial_submission(name, source, release):
    """The student version with the source's solutions filled in, one of them with MISTAKES[name]."""
    cell_id, right, wrong, _ = MISTAKES[name]
    solutions = {nbgrader_meta(c)["grade_id"]: c.source for c in source.cells if is_solution(c)}
    submission = nbformat.from_dict(json.loads(json.dumps(release)))  # a deep copy
    for cell in submission.cells:
        if is_solution(cell) and cell.cell_type == "code":
            cell.source = solutions[nbgrader_meta(cell)["grade_id"]]
            if nbgrader_meta(cell)["grade_id"] == cell_id:
                assert right in cell.source, f"{name}: MISTAKES expects {right!r} in solution cell {cell_id}"
                cell.source = cell.source.replace(right, wrong)
    return submission


def error_outputs(cell):
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


@pytest.fixture(scope="class")
def graded(request, tmp_path_factory):
    """Generate and autograde one assignment in a temporary course directory; return what came out."""
    from nbgrader.api import Gradebook

    name = request.cls.NAME
    course = tmp_path_factory.mktemp(f"course-{name}")
    shutil.copy(COURSE / "nbgrader_config.py", course)
    shutil.copytree(SOURCE / name, course / "source" / name)
    nbgrader(["generate_assignment", name, "--force"], course)

    notebook = f"{name}.ipynb"
    source, release = read(SOURCE / name / notebook), read(course / "release" / name / notebook)
    submissions = {"solution": source, "unmodified": release,
                   "partial": partial_submission(name, source, release)}
    for student, nb in submissions.items():
        folder = course / "submitted" / student / name
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / notebook))
    nbgrader(["autograde", name, "--force"], course)

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in STUDENTS:
            submission = gradebook.find_submission(name, student)
            grades = gradebook.find_submission_notebook(name, name, student).grades
            scores[student] = dict(
                code=submission.code_score, max_code=submission.max_code_score,
                cells={g.name: (g.auto_score, g.max_score) for g in grades if g.cell_type == "code"})
    return dict(name=name, course=course, source=source, release_file=course / "release" / name / notebook,
                release=release, scores=scores,
                autograded={s: read(course / "autograded" / s / name / notebook) for s in STUDENTS})


class _AssignmentChecks:
    NAME = None

    def test_committed_student_version_is_up_to_date(self, graded):
        committed = RELEASE / self.NAME / f"{self.NAME}.ipynb"
        assert committed.is_file(), f"{committed} is missing: run `make assignments`"
        assert committed.read_bytes() == graded["release_file"].read_bytes(), (
            f"{committed.relative_to(ROOT)} is not what nbgrader makes from the source: run `make assignments`")

    def test_student_version_contains_no_solution(self, graded):
        text = graded["release_file"].read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "MARK SCHEME"):
            assert marker not in text, f"the student version still contains {marker!r}"
        source = graded["source"]
        given = "\n".join(SOLUTION_REGION.sub("", c.source) for c in source.cells)
        secret = {line.strip() for c in source.cells if is_solution(c) and c.cell_type == "code"
                  for region in SOLUTION_REGION.findall(c.source) for line in region.splitlines()}
        secret |= {line.strip() for c in source.cells if is_test(c)
                   for region in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", c.source, re.S)
                   for line in region.splitlines()}
        secret = {line for line in secret if len(line) > 12 and line not in given}
        released = "\n".join(c.source for c in graded["release"].cells)
        leaked = sorted(line for line in secret if line in released)
        assert not leaked, f"solution or hidden-test lines in the student version: {leaked[:5]}"
        answers = [c for c in graded["release"].cells if is_solution(c) and c.cell_type == "markdown"]
        assert all(c.source.strip() == "YOUR ANSWER HERE" for c in answers), "written answers were not cleared"

    def test_source_gets_full_marks(self, graded):
        scores = graded["scores"]["solution"]
        lost = {cell: score for cell, score in scores["cells"].items() if score[0] != score[1]}
        assert not lost and scores["code"] == scores["max_code"] > 0, f"the source loses marks in {lost}"
        failed = [c.id for c in graded["autograded"]["solution"].cells if error_outputs(c)]
        assert not failed, f"cells of the source fail when autograded: {failed}"

    def test_unmodified_student_version_scores_zero_and_runs(self, graded):
        scores = graded["scores"]["unmodified"]
        assert scores["code"] == 0, f"the unmodified student version scores {scores['cells']}"
        for cell in graded["autograded"]["unmodified"].cells:
            if cell.cell_type != "code":
                continue
            assert cell.execution_count is not None, f"cell {cell.id} was not executed (did the kernel die?)"
            errors = error_outputs(cell)
            assert not errors or is_solution(cell) or is_test(cell), (
                f"cell {cell.id} of the student version fails although the student has nothing to do there: "
                f"{errors[0].ename}: {errors[0].evalue}")
            if errors and is_solution(cell):
                assert errors[0].ename == "NotImplementedError", f"cell {cell.id}: {errors[0].ename}"

    def test_partly_wrong_submission_gets_partial_marks(self, graded):
        scores = graded["scores"]["partial"]
        expected_failures = MISTAKES[self.NAME][3]
        failing = {cell for cell, (score, maximum) in scores["cells"].items() if score != maximum}
        assert failing == expected_failures, f"tests failed by the partly wrong submission: {sorted(failing)}"
        lost = sum(scores["cells"][cell][1] for cell in expected_failures)
        assert 0 < scores["code"] == scores["max_code"] - lost, scores
        for cell in graded["autograded"]["partial"].cells:
            if nbgrader_meta(cell).get("grade_id") in expected_failures:
                errors = error_outputs(cell)
                assert errors and errors[0].evalue.strip(), (
                    f"{cell.id} fails without a message: a student would not know what is wrong")


@pytest.fixture(scope="module")
def sources():
    return {name: read(SOURCE / name / f"{name}.ipynb") for name in ASSIGNMENTS}


def test_every_assignment_has_a_partial_submission_recipe():
    assert ASSIGNMENTS == sorted(MISTAKES), f"assignments {ASSIGNMENTS}, partial-submission recipes {sorted(MISTAKES)}"


def test_source_notebooks_are_committed_clean(sources):
    for name, nb in sources.items():
        executed = [c.id for c in nb.cells if c.cell_type == "code" and (c.outputs or c.execution_count)]
        assert not executed, f"{name}: clear the outputs before committing (cells {executed})"


def test_nbgrader_metadata_is_complete(sources):
    for name, nb in sources.items():
        ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c)]
        assert len(ids) == len(set(ids)), f"{name}: duplicate grade_id"
        tests = [c for c in nb.cells if is_test(c)]
        assert tests and all(nbgrader_meta(c).get("points", 0) > 0 and nbgrader_meta(c)["locked"] for c in tests), (
            f"{name}: every test cell needs points and must be locked")
        assert any("### BEGIN HIDDEN TESTS" in c.source for c in tests), f"{name} has no hidden tests"
        for cell in nb.cells:
            if is_solution(cell) and cell.cell_type == "code":
                assert "### BEGIN SOLUTION" in cell.source, f"{name}: solution cell {cell.id} has no solution region"
        assert any(not is_solution(c) and not is_test(c) and nbgrader_meta(c).get("locked") for c in nb.cells), (
            f"{name}: the instructions and given code should be read-only (locked) cells")


def test_the_book_shows_every_student_version_without_running_it(sources):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    listed = set(re.findall(r"book/assignments/release/[\w/]+", json.dumps(toc)))
    expected = {f"book/assignments/release/{name}/{name}" for name in ASSIGNMENTS}
    assert listed == expected, f"_toc.yml lists {sorted(listed)}, expected {sorted(expected)}"
    for name, nb in sources.items():
        # myst-nb reads this notebook-level override: the book does not execute the student
        # version (its solution cells raise NotImplementedError).
        assert nb.metadata.get("mystnb", {}).get("execution_mode") == "off", (
            f"{name}: set the notebook metadata mystnb.execution_mode to 'off'")


def test_the_assignments_page_states_the_points(sources):
    page = (COURSE / "index.md").read_text(encoding="utf-8")
    rows = dict((m[0], (int(m[1]), int(m[2]))) for m in re.findall(
        r"<release/(\w+)/\1>`[^|]*\|[^|]*\|\s*(\d+)\s*\|\s*(\d+)\s*\|", page))
    for name, nb in sources.items():
        graded = [c for c in nb.cells if nbgrader_meta(c).get("grade")]
        auto = sum(nbgrader_meta(c)["points"] for c in graded if c.cell_type == "code")
        written = sum(nbgrader_meta(c)["points"] for c in graded if c.cell_type == "markdown")
        assert rows.get(name) == (auto, written), (
            f"book/assignments/index.md gives {name} {rows.get(name)} (autograded, written) points; "
            f"its notebook has {(auto, written)}")


def _make_class(name):
    return type(f"TestAssignment_{name}", (_AssignmentChecks,), {"NAME": name})


for _name in ASSIGNMENTS:
    globals()[f"TestAssignment_{_name}"] = _make_class(_name)
