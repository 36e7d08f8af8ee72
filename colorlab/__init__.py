"""colorlab — a teaching and experimentation kit for deep-learning image colorization."""
import warnings as _warnings

# torch 2.15 warns on every `torch.jit.script` call made by libraries at import time; it is not ours to fix.
_warnings.filterwarnings("ignore", message=r"`torch.jit.script` is deprecated", category=FutureWarning)

from colorlab.core.errors import ColorlabError  # noqa: E402
from colorlab.core.device import get_device  # noqa: E402

__version__ = "0.1.0"
__all__ = ["ColorlabError", "get_device", "__version__"]
