"""Colour statistics and rarity: the ab bins, the ab prior, rarity weights, soft-encoding and the losses.

Modules, in import order: :mod:`~colorlab.rarity.bins` (Zhang's 313 and regular grids, the bin look-up)
→ :mod:`~colorlab.rarity.weights` (rarity weights from a prior) → :mod:`~colorlab.rarity.prior` (the
smoothed ab histogram of a data set) → :mod:`~colorlab.rarity.soft_encoding` (targets over the bins,
the annealed mean) → :mod:`~colorlab.rarity.losses` (the colorization losses).
"""
from colorlab.rarity.bins import DEFAULT_GRID, BinLookup, grid_bins, zhang_bins
from colorlab.rarity.losses import LOSSES, BlendedLoss, MSELoss, RarityWeightedMSE, RebalancedCrossEntropy, make_loss
from colorlab.rarity.prior import ABPrior, ab_prior, prior_for
from colorlab.rarity.soft_encoding import annealed_mean, soft_encode, soft_encode_sparse
from colorlab.rarity.weights import SCHEMES, rarity_weights

__all__ = ["DEFAULT_GRID", "BinLookup", "grid_bins", "zhang_bins", "ABPrior", "ab_prior", "prior_for", "SCHEMES",
           "rarity_weights", "annealed_mean", "soft_encode", "soft_encode_sparse", "LOSSES", "MSELoss",
           "RarityWeightedMSE", "BlendedLoss", "RebalancedCrossEntropy", "make_loss"]
