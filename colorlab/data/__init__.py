"""Datasets for colorization, all behind one torchvision-style interface.

``get_dataset(name, root=None, split="train", size=64, download=False, ...)`` returns a
torch Dataset whose items are ``(uint8 RGB tensor (3, size, size), int label)``; Lab is
computed later, on the batch's device. ``prepare(name, ...)`` decodes a dataset once into a
uint8 memory-mapped cache (:class:`Prepared`) that training reads from.

=================  ===================================================================
``sample``         built in, offline: 11 photos shipped inside scikit-image, scikit-learn
                   and matplotlib, cut into random patches at several zooms; ``val`` is
                   3 held-out photos (chelsea, coffee, flower) never used for training.
``tiny-imagenet``  Tiny ImageNet 200 (64x64, 100k train / 10k val; some photos are gray).
``flowers102``     Oxford Flowers 102 with the official 1020 / 1020 / 6149 splits.
``tf-flowers``     TensorFlow ``flower_photos`` (5 classes, 3670 photos; 90/10 hash split).
``places365``      Places365-Standard small images (256x256, 365 scene categories).
``folder``         your own photos: any folder, searched recursively, sub-folders = classes.
``scenes``         built in, offline: procedurally drawn scenes with per-pixel latent labels
                   (class, colour mode, profile) — the kit's controlled experiment.
=================  ===================================================================

Each loader reads the dataset's real on-disk layout under ``root`` (default
``colorlab.core.config.data_root() / <folder>``); missing or incomplete data raises one
:class:`~colorlab.core.errors.ColorlabError` naming what is missing, the expected layout and how
to get it. Nothing touches the network unless ``download=True`` (or :func:`download_dataset`,
``colorlab download NAME``; see :mod:`colorlab.data.remote` for mirrors, resume and checks). ``dataset_status()`` lists
what is present. Layouts, licences and checksums: ``datasets/<name>/README.md``.
"""
from colorlab.core.lazy import lazy_exports

__all__ = [
    "DATASETS", "get_dataset", "dataset_class", "download_dataset", "prepare", "load_prepared", "Prepared",
    "dataset_status", "format_status", "sample_photos", "SAMPLE_PHOTOS", "SAMPLE_VAL_PHOTOS", "ab_spread", "is_gray",
    "GRAY_AB_THRESHOLD", "PhotoDataset", "SampleDataset", "TinyImageNet", "Flowers102", "TFFlowers",
    "Places365", "PhotoFolder", "ScenesDataset",
]

# where each name lives: imported when first used, so importing the package loads nothing heavy
__getattr__, __dir__ = lazy_exports(__name__, __all__, {
    "base": "PhotoDataset",
    "datasets": "get_dataset",
    "flowers": "Flowers102 TFFlowers",
    "folder": "PhotoFolder",
    "gray": "GRAY_AB_THRESHOLD ab_spread is_gray",
    "places": "Places365",
    "prepare": "prepare",
    "prepared": "Prepared load_prepared",
    "registry": "DATASETS dataset_class",
    "remote": "download_dataset",
    "sample": "SAMPLE_PHOTOS SAMPLE_VAL_PHOTOS SampleDataset sample_photos",
    "scenes": "ScenesDataset",
    "status": "dataset_status format_status",
    "tiny_imagenet": "TinyImageNet",
})
