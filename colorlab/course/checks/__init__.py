"""Shared helpers of the exercise checks (one module per lab: ``from colorlab.course.checks import lab03 as check``).

A check takes the student's function or class, runs it on inputs it builds itself (seeded, small,
CPU), compares with the kit's own implementation and raises ``AssertionError`` with a message that
says *what* differs — never only "wrong". ``NotImplementedError`` from an unfinished exercise
passes through untouched. On success a check prints one line starting with ``✓``.

Hidden tests (nbgrader). A check cell holds the visible call, then a block between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` that only the instructor's source has: the
same check on inputs drawn from a seed that appears nowhere else (``check.x(my_x, seed=4817)``) and
:func:`not_the_kit` (a submission that only re-exports the kit's function earns nothing).
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch

from colorlab.course.student import is_kit_object

__all__ = ["as_numpy", "assert_close", "assert_shape", "call_student", "describe", "not_the_kit", "one_thread",
           "passed", "rng"]


def rng(seed: int = 0) -> np.random.Generator:
    """The seeded generator every check draws its inputs from."""
    return np.random.default_rng(seed)


def call_student(fn, *args, what: str = "your function", hint: str = ""):
    """``fn(*args)``: a crash of the student's code (other than an unfinished exercise or a failed
    assertion) becomes an AssertionError that says what crashed, with ``hint`` on how to fix it."""
    try:
        return fn(*args)
    except (NotImplementedError, AssertionError):
        raise
    except Exception as e:  # noqa: BLE001 - a crash is a wrong answer: say which and why
        raise AssertionError(f"{what} raised {type(e).__name__}: {e}" + (f"\nHint: {hint}" if hint else "")) from e


def as_numpy(x, what: str = "your answer") -> np.ndarray:
    """``x`` (tensor, array, list, number) as a float64 array; an AssertionError if it is not numeric."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise AssertionError(f"{what} should be numbers (an array or tensor), got {type(x).__name__}") from e


def assert_shape(x, shape: tuple, what: str = "your answer") -> None:
    got = tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))
    assert got == tuple(shape), f"{what} has shape {got}, expected {tuple(shape)}"


def assert_close(actual, expected, what: str = "your answer", atol: float = 1e-4, rtol: float = 1e-4) -> None:
    """Same shape and values within ``atol + rtol·|expected|``; the message shows the worst element."""
    a, e = as_numpy(actual, what), as_numpy(expected, "the reference")
    assert_shape(a, e.shape, what)
    if a.size == 0:
        return
    bad = np.abs(a - e) > atol + rtol * np.abs(e)
    if bad.any():
        i = np.unravel_index(int(np.argmax(np.abs(a - e) - rtol * np.abs(e))), a.shape)
        raise AssertionError(f"{what} differs from the reference in {int(bad.sum())} of {a.size} values; "
                             f"e.g. at index {tuple(int(j) for j in i)}: yours {a[i]:.6g}, expected {e[i]:.6g}")


def not_the_kit(obj, what: str = "your answer") -> None:
    """An AssertionError when ``obj`` is the kit's own function or class (re-exported, not written)."""
    assert not is_kit_object(obj), (f"{what} is the kit's own {getattr(obj, '__name__', 'object')} "
                                    f"({obj.__module__}): the exercise is to write it yourself")


def describe(x) -> str:
    """What a value is, for a message: ``torch.Tensor (3, 2) float32``, ``np.ndarray (3,) float64``, ``list``."""
    if isinstance(x, torch.Tensor):
        return f"torch.Tensor {tuple(x.shape)} {str(x.dtype).replace('torch.', '')}"
    if isinstance(x, np.ndarray):
        return f"np.ndarray {x.shape} {x.dtype}"
    return type(x).__name__


@contextlib.contextmanager
def one_thread():
    """Tiny tensors: one thread is fastest (several threads on a busy machine cost more than the arithmetic)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def passed(message: str) -> None:
    print("✓ " + message)
