"""colorlab — a teaching and experimentation kit for deep-learning image colorization.

Importing it loads nothing heavy (no torch): each stage (``colorlab.core``, ``colorlab.data`` …) imports
a module only when one of its names is used.
"""
from colorlab.core.lazy import lazy_exports

__version__ = "0.1.0"
__all__ = ["ColorlabError", "get_device", "__version__"]

__getattr__, __dir__ = lazy_exports(__name__, ["ColorlabError", "get_device"], {
    "core.errors": "ColorlabError",
    "core.device": "get_device",
})
