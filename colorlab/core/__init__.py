"""The lowest stage: what every other stage stands on.

Colour spaces (:mod:`~colorlab.core.color`: Lab, YCbCr and the one ``ColorSpace`` object that splits an
RGB batch into (gray input, chroma target) and joins it back), image I/O, the device, the kit's folders,
errors, downloads and pretrained-weight files, checkpoints on disk, process groups, option dataclasses,
figure saving and the Gaussian kernel.
"""
from colorlab.core.lazy import lazy_exports

__all__ = [
    "save_checkpoint", "read_checkpoint", "atomic_write", "plain", "rgb_to_lab", "lab_to_rgb",
    "rgb_to_gray_l", "gray_rgb", "chroma_hue", "normalize_l", "denormalize_l", "normalize_ab",
    "denormalize_ab", "split_lab", "join_l_ab", "AB_SCALE", "rgb_to_ycbcr", "ycbcr_to_rgb", "ColorSpace",
    "LAB", "YCBCR", "COLORSPACES", "get_colorspace", "home", "data_root", "cache_root", "demo_model", "get_device",
    "describe_device", "sync", "DistInfo", "env_world", "is_distributed", "rank", "world_size", "is_rank0",
    "init_distributed", "teardown_distributed", "distributed_context", "rank0_first", "barrier",
    "convert_sync_batchnorm", "shard_indices", "Remote", "DownloadError", "fetch", "extract", "offline",
    "mirror", "source_of", "human_size", "check_free_space", "ColorlabError", "pyplot", "to_hwc",
    "save_figure", "gaussian_kernel", "gaussian_size", "load_image", "open_rgb", "save_image", "to_gray",
    "IMAGE_EXTENSIONS", "is_image_file", "with_options", "PRETRAINED_MODES", "pretrained_mode",
    "hub_checkpoints", "weights_remote", "obtain_weights", "TRUSTED_SHA256", "CONNECT_TIMEOUT",
]

# where each name lives: imported when first used, so importing the package loads nothing heavy
__getattr__, __dir__ = lazy_exports(__name__, __all__, {
    "checkpoint": "plain read_checkpoint save_checkpoint",
    "files": "atomic_write",
    "color": ("AB_SCALE chroma_hue ColorSpace COLORSPACES denormalize_ab denormalize_l get_colorspace gray_rgb "
             "join_l_ab LAB lab_to_rgb normalize_ab normalize_l rgb_to_gray_l rgb_to_lab rgb_to_ycbcr "
             "split_lab YCBCR ycbcr_to_rgb"),
    "config": "cache_root data_root demo_model home",
    "device": "describe_device get_device sync",
    "distributed": ("barrier convert_sync_batchnorm DistInfo distributed_context env_world init_distributed "
                   "is_distributed is_rank0 rank rank0_first shard_indices teardown_distributed world_size"),
    "download": "check_free_space DownloadError extract fetch human_size mirror offline Remote source_of",
    "errors": "ColorlabError",
    "figures": "pyplot save_figure to_hwc",
    "filters": "gaussian_kernel gaussian_size",
    "io": "IMAGE_EXTENSIONS is_image_file load_image open_rgb save_image to_gray",
    "options": "with_options",
    "weights": ("CONNECT_TIMEOUT hub_checkpoints obtain_weights pretrained_mode PRETRAINED_MODES "
               "TRUSTED_SHA256 weights_remote"),
})
