"""Figures for every stage of the pipeline (matplotlib, imported when a figure is drawn).
"""
from colorlab.core.lazy import lazy_exports

__all__ = [
    "unet_diagram", "fusion_diagram", "fpn_diagram", "receptive_field_figure", "pixel_weight_figure",
    "bins_plane", "bin_colours", "plot_bin_values", "mixture_logits", "plot_soft_encoding", "plot_annealed",
    "class_pixel_logits", "plot_sampled_hints", "plot_hint_sampler", "plot_hints_vs_psnr", "hint_gallery",
    "kmeans_trace", "plot_kmeans_steps", "ab_channel_rgb", "ab_gamut", "plot_ab_gamut", "channels_figure",
    "patch_grid", "ab_error_curve", "plot_ab_error_curves", "lab_swatches_rgb", "plot_palettes",
    "plot_group_examples", "plot_dominant_colors", "plot_confusion", "one_per_group",
    "wrong_profile_gallery", "scene_grid", "compare_figure", "object_crops", "object_gallery",
    "CLASS_COLOURS", "ab_plane_rgb", "plot_ab_histogram", "plot_weight_map", "plot_lambda_effect",
    "plot_prior_and_weights", "weight_range", "SLIDER_LAMS", "photo_gallery",
]

# where each name lives: imported when first used, so importing the package loads nothing heavy
__getattr__, __dir__ = lazy_exports(__name__, __all__, {
    "architecture": "fpn_diagram fusion_diagram pixel_weight_figure receptive_field_figure unet_diagram",
    "classes": ("bin_colours bins_plane class_pixel_logits mixture_logits plot_annealed plot_bin_values "
               "plot_soft_encoding"),
    "hints": "hint_gallery plot_hint_sampler plot_hints_vs_psnr plot_sampled_hints",
    "kmeans": "kmeans_trace plot_kmeans_steps",
    "lab": "ab_channel_rgb ab_gamut channels_figure patch_grid plot_ab_gamut",
    "metrics": "ab_error_curve plot_ab_error_curves",
    "photos": "photo_gallery",
    "profiles": "lab_swatches_rgb plot_confusion plot_dominant_colors plot_group_examples plot_palettes",
    "routing": "one_per_group wrong_profile_gallery",
    "scenes": "CLASS_COLOURS compare_figure object_crops object_gallery scene_grid",
    "stats": ("ab_plane_rgb plot_ab_histogram plot_lambda_effect plot_prior_and_weights plot_weight_map "
             "SLIDER_LAMS weight_range"),
})
