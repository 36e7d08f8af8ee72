"""Colour profiles: per-image colour descriptors, the batched k-means behind them, and groupings of a dataset.

* :mod:`~colorlab.profiles.kmeans` — Lloyd's k-means for a batch of point sets (and the plain reference);
* :mod:`~colorlab.profiles.histogram` — the weighted colour histogram that k-means iterates over;
* :mod:`~colorlab.profiles.descriptors` — Dominant Colour Descriptors and ab histograms of images;
* :mod:`~colorlab.profiles.groups` — colour profiles (K-means over descriptors) and category groups;
* :mod:`~colorlab.profiles.palette` — palette suggestions for the hint painter.
"""
from colorlab.profiles.descriptors import (DCD_STEP, FEATURES, DominantColors, ImageDescriptors, describe_images,
                                           descriptor_features, dominant_colors_batch)
from colorlab.profiles.groups import (ColorProfiles, Groups, ProfileConfig, build_profiles, category_groups,
                                      group_examples, group_palettes, name_groups)
from colorlab.profiles.histogram import ColourHistogram, colour_histogram
from colorlab.profiles.kmeans import KMeansResult, batched_kmeans, lloyd_kmeans
from colorlab.profiles.palette import Palette, suggest_palette, to_hex

__all__ = ["KMeansResult", "lloyd_kmeans", "batched_kmeans", "ColourHistogram", "colour_histogram", "DCD_STEP",
           "FEATURES", "DominantColors", "dominant_colors_batch", "ImageDescriptors", "describe_images",
           "descriptor_features", "Groups", "group_palettes", "group_examples", "ColorProfiles", "ProfileConfig",
           "build_profiles", "category_groups", "name_groups", "Palette", "suggest_palette", "to_hex"]
