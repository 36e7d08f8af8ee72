"""Using a trained colorizer: colorize a photo at full resolution, a folder of photos, and post-processing
(gamma, saturation boost).
"""
from colorlab.core.lazy import lazy_exports

__all__ = [
    "colorize_paths", "find_images", "describe_training", "colorize", "load_colorizer",
    "default_checkpoint", "gamma_lut", "apply_gamma", "boost", "enhance",
]

# where each name lives: imported when first used, so importing the package loads nothing heavy
__getattr__, __dir__ = lazy_exports(__name__, __all__, {
    "batch": "colorize_paths describe_training find_images",
    "colorize": "colorize default_checkpoint load_colorizer",
    "postprocess": "apply_gamma boost enhance gamma_lut",
})
