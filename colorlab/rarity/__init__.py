"""Colour statistics and rarity: the ab bins, the ab prior, rarity weights, soft-encoding and the losses.

Modules, in import order: :mod:`~colorlab.rarity.bins` (Zhang's 313 and regular grids, the bin look-up)
→ :mod:`~colorlab.rarity.weights` (rarity weights from a prior) → :mod:`~colorlab.rarity.prior` (the
smoothed ab histogram of a data set) → :mod:`~colorlab.rarity.soft_encoding` (targets over the bins,
the annealed mean) → :mod:`~colorlab.rarity.losses` (the colorization losses).
"""
from colorlab.core.lazy import lazy_exports

__all__ = ["DEFAULT_GRID", "BinLookup", "grid_bins", "zhang_bins", "ABPrior", "ab_prior", "prior_for", "SCHEMES",
           "rarity_weights", "annealed_mean", "soft_encode", "soft_encode_sparse", "LOSSES", "MSELoss",
           "RarityWeightedMSE", "BlendedLoss", "RebalancedCrossEntropy", "make_loss"]

# where each name lives: imported when first used, so importing the package loads nothing heavy
__getattr__, __dir__ = lazy_exports(__name__, __all__, {
    "bins": "DEFAULT_GRID BinLookup grid_bins zhang_bins",
    "losses": "LOSSES BlendedLoss MSELoss RarityWeightedMSE RebalancedCrossEntropy make_loss",
    "prior": "ABPrior ab_prior prior_for",
    "soft_encoding": "annealed_mean soft_encode soft_encode_sparse",
    "weights": "SCHEMES rarity_weights",
})
