"""colorlab — a teaching and experimentation kit for deep-learning image colorization."""
from .errors import ColorlabError
from .device import get_device

__version__ = "0.1.0"
__all__ = ["ColorlabError", "get_device", "__version__"]
