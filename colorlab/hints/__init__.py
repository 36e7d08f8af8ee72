"""User-guided colour hints (Zhang et al. 2017; Benabla et al.): the hint input and synthetic hints.

:mod:`~colorlab.hints.encoding` turns hints into the model's 3 extra input channels;
:mod:`~colorlab.hints.sampling` draws synthetic hints from the true colours. Training a hint model:
:mod:`colorlab.training.hints`; its evaluation: :mod:`colorlab.evaluation.hints`; figures:
:mod:`colorlab.viz.hints`.
"""
from colorlab.core.lazy import lazy_exports

__all__ = ["HINT_CHANNELS", "Hint", "encode_hints", "paint_patches", "HintSampler", "patch_colours", "random_hints"]

# where each name lives: imported when first used, so importing the package loads nothing heavy
__getattr__, __dir__ = lazy_exports(__name__, __all__, {
    "encoding": "HINT_CHANNELS Hint encode_hints paint_patches",
    "sampling": "HintSampler patch_colours random_hints",
})
