"""Measuring colorizers: the metrics (PSNR, SSIM, colourfulness, AuC, CIEDE2000, LPIPS, FID), the
evaluation table, and the experiments that end in a table — sweeps, routing, hints, the predictor.
"""
from colorlab.core.lazy import lazy_exports

__all__ = [
    "evaluate", "mean_ab", "batch_lab", "rarity_lookup", "GROUP_METRICS", "COLUMNS", "GRAY", "MEAN_AB",
    "hints_vs_psnr", "HINT_COUNTS", "psnr", "ssim", "colourfulness", "auc_ab", "ciede2000",
    "lpips_available", "fid_available", "lpips_distance", "fid_features", "frechet_distance",
    "PredictorReport", "evaluate_predictor", "cross_group_table", "routing_experiment", "RoutingResult",
    "run_sweep", "markdown_table", "plot_sweep", "check_copy", "CopyCheck", "rare_bins", "rare_colour_mask",
    "compare_on_photos", "rarest_photos", "findings",
]

# where each name lives: imported when first used, so importing the package loads nothing heavy
__getattr__, __dir__ = lazy_exports(__name__, __all__, {
    "evaluate": "batch_lab COLUMNS evaluate GRAY GROUP_METRICS mean_ab MEAN_AB rarity_lookup",
    "hints": "HINT_COUNTS hints_vs_psnr",
    "metrics": ("auc_ab ciede2000 colourfulness fid_available fid_features frechet_distance lpips_available "
               "lpips_distance psnr ssim"),
    "predictor": "evaluate_predictor PredictorReport",
    "real_photos": "check_copy compare_on_photos CopyCheck findings rare_bins rare_colour_mask rarest_photos",
    "routing": "cross_group_table routing_experiment RoutingResult",
    "sweep": "markdown_table plot_sweep run_sweep",
})
