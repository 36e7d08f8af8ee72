"""Answers the exercise checks are held against, one module per lab (``lab03.py``).

Each module defines ``ANSWERS = {exercise: {"right": [source, ...], "wrong": [(why, source), ...]}}``.
A source defines the same name(s) as the notebook's exercise cell, in a namespace where the
notebook's setup cell already ran. ``tests/test_exercise_answers.py`` requires at least two of each:
every right one must pass the check, every wrong one must fail it with ``AssertionError`` (one of the
wrong ones should be subtle: a transpose, a missing normalisation, the wrong axis).
"""
