"""nbgrader configuration of the minigrad course: this folder is an nbgrader course directory.

    source/<assignment>/<assignment>.ipynb    the instructor versions (solutions, hidden tests)
    release/<assignment>/<assignment>.ipynb   the student versions, made by `make assignments`

nbgrader reads this file from the folder it is run in, so run it from here, with the project's
environment on the PATH (nbgrader calls the `alembic` command of its environment), e.g.

    cd book/assignments && PATH="$PWD/../../.venv/bin:$PATH" nbgrader generate_assignment backward_rules

The teacher's guide (book/assignments/teachers_guide.md) describes the whole course workflow.
"""
import os

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = "minigrad"
# The course directory is the folder of this file, wherever it is copied to.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))

# What replaces the solutions in the student version (nbgrader's defaults, spelled out).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding runs every notebook from the top; each cell gets at most this many seconds.
c.Execute.timeout = 120
