"""The one exception type users of the kit see."""


__all__ = ["ColorlabError"]


class ColorlabError(Exception):
    """A problem with the user's input or data, explained in one line.

    Raised instead of a deep library traceback whenever the cause is something the
    user can fix: a missing or unreadable file, an incomplete dataset, a bad argument.
    """
