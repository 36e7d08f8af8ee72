"""Using a trained colorizer: colorize a photo at full resolution, a folder of photos, and post-processing
(gamma, saturation boost).
"""
from colorlab.inference.batch import colorize_paths, describe_training, find_images
from colorlab.inference.colorize import colorize, default_checkpoint, load_colorizer
from colorlab.inference.postprocess import apply_gamma, boost, enhance, gamma_lut

__all__ = [
    "colorize_paths", "find_images", "describe_training", "colorize", "load_colorizer",
    "default_checkpoint", "gamma_lut", "apply_gamma", "boost", "enhance",
]
