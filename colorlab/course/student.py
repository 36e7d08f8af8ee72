"""The student's code in the lab's experiment: :func:`use_student`.

An exercise is worth doing when its result is what the lab's experiment then runs on: the student's
ab histogram builds the prior lab 02 plots, their k-means builds lab 03's profiles, their loss trains
lab 05's model. So a lab's experiment cell asks for the student's version first::

    histogram = use_student("lab02.ab_histogram", globals().get("my_ab_histogram"), kit=ab_histogram)

:func:`use_student` runs the exercise's (visible) check on the student's object, quietly. When it
passes, the experiment uses the student's object; when it is missing, unfinished or fails its check,
the lab says so in one line and falls back to the kit's own, so the notebook still runs top to bottom
(and a wrong answer loses its own points only, never the experiment's).

Written by hand rather than with a grading library: nbgrader grades cells, it has no notion of "use
this function if it is right"; the rule is short and a student can read it.
"""
from __future__ import annotations

import contextlib
import importlib
import io

__all__ = ["use_student", "is_kit_object"]

_VERDICTS: dict = {}  # (exercise, id(obj)) → (obj, passed, reason): a check runs once per object


def is_kit_object(obj) -> bool:
    """Whether ``obj`` is one of the kit's own functions or classes (``colorlab.…``), not the student's."""
    if isinstance(obj, type) or callable(obj):
        module = getattr(obj, "__module__", None) or ""
        return module == "colorlab" or module.startswith("colorlab.")
    return False


def _check_for(exercise: str):
    lab, _, name = exercise.partition(".")
    if not lab.startswith("lab") or not name:
        raise ValueError(f"exercise ids look like 'lab02.ab_histogram', got {exercise!r}")
    return getattr(importlib.import_module(f"colorlab.course.checks.{lab}"), name)


def _verdict(exercise: str, obj) -> tuple[bool, str]:
    key = (exercise, id(obj))
    if key in _VERDICTS and _VERDICTS[key][0] is obj:
        return _VERDICTS[key][1:]
    if obj is None:
        result = (False, "it is not defined (run its cell first)")
    elif is_kit_object(obj):
        result = (False, "it is the kit's own, not yours")
    else:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                _check_for(exercise)(obj)
            result = (True, "")
        except NotImplementedError:
            result = (False, "it is not written yet")
        except AssertionError as e:
            first = (str(e).strip().splitlines() or ["its check fails"])[0]
            result = (False, f"it does not pass its check yet ({first[:120]})")
    _VERDICTS[key] = (obj, *result)
    return result


def use_student(exercise: str, yours, kit):
    """``yours`` when it passes the check of ``exercise`` (``"labNN.name"``), else ``kit``; prints one line.

    ``yours``: the student's function or class (``globals().get("my_…")``: ``None`` when the cell
    was never run); ``kit``: the kit's own, used while the student's is missing or wrong.
    """
    ok, why = _verdict(exercise, yours)
    name = getattr(yours, "__name__", None) or exercise.partition(".")[2]
    if ok:
        print(f"Using your {name} (it passed its check) for this experiment.")
        return yours
    print(f"Using the kit's {getattr(kit, '__name__', 'version')} for this experiment: your {name} — {why}.")
    return kit
