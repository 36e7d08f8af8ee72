"""Course tooling: the checks behind the labs' exercises and the student bundle.

* :mod:`colorlab.course.checks` — one module per lab (``lab01`` … ``lab10``). A notebook's check
  cell calls ``check.<exercise>(the_student_function)``; the check builds its own inputs, compares
  with the kit's reference and raises ``AssertionError`` with a hint when the answer is wrong.
  ``tests/exercise_answers/`` stores, for every exercise, correct variants the check must accept
  and plausible wrong answers it must reject.
* :func:`export_bundle` — ``colorlab course export DIR``: what students get (the colorlab-kit wheel,
  exercises without solutions, hidden tests or model answers, the dataset cards, a student README).
* :mod:`colorlab.course.grading` — nbgrader: :func:`release`, :func:`autograde`, the gradebook;
  :func:`instructor_guide` (staff only); :func:`find_leaks`, the one "no solution text" check.
* :func:`use_student` — a lab's experiment runs on the student's function once it passes its check.
"""
from colorlab.core.lazy import lazy_exports

__all__ = ["autograde", "export_bundle", "find_leaks", "instructor_guide", "release", "use_student"]

# where each name lives: imported when first used, so importing the package loads nothing heavy
__getattr__, __dir__ = lazy_exports(__name__, __all__, {
    "export": "export_bundle",
    "grading": "autograde release",
    "guide": "instructor_guide",
    "leaks": "find_leaks",
    "student": "use_student",
})
