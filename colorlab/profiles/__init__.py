"""Colour profiles: per-image colour descriptors, the batched k-means behind them, and groupings of a dataset.

* :mod:`~colorlab.profiles.kmeans` — Lloyd's k-means for a batch of point sets (and the plain reference);
* :mod:`~colorlab.profiles.histogram` — the weighted colour histogram that k-means iterates over;
* :mod:`~colorlab.profiles.descriptors` — Dominant Colour Descriptors and ab histograms of images;
* :mod:`~colorlab.profiles.groups` — colour profiles (K-means over descriptors) and category groups;
* :mod:`~colorlab.profiles.palette` — palette suggestions for the hint painter.
"""
from colorlab.core.lazy import lazy_exports

__all__ = ["KMeansResult", "lloyd_kmeans", "batched_kmeans", "ColourHistogram", "colour_histogram", "DCD_STEP",
           "FEATURES", "DominantColors", "dominant_colors_batch", "ImageDescriptors", "describe_images",
           "descriptor_features", "Groups", "group_palettes", "group_examples", "ColorProfiles", "ProfileConfig",
           "build_profiles", "category_groups", "name_groups", "Palette", "suggest_palette", "to_hex"]

# where each name lives: imported when first used, so importing the package loads nothing heavy
__getattr__, __dir__ = lazy_exports(__name__, __all__, {
    "descriptors": ("DCD_STEP FEATURES DominantColors ImageDescriptors describe_images descriptor_features "
                   "dominant_colors_batch"),
    "groups": ("ColorProfiles Groups ProfileConfig build_profiles category_groups group_examples "
              "group_palettes name_groups"),
    "histogram": "ColourHistogram colour_histogram",
    "kmeans": "KMeansResult batched_kmeans lloyd_kmeans",
    "palette": "Palette suggest_palette to_hex",
})
