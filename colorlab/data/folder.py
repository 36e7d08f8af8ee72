"""Your own photos: any folder, searched recursively."""
from __future__ import annotations

from pathlib import Path

from colorlab.core.errors import ColorlabError
from colorlab.core.io import IMAGE_EXTENSIONS
from colorlab.data.base import PhotoDataset, hash_split, list_images

__all__ = ["PhotoFolder"]


class PhotoFolder(PhotoDataset):
    """Every photo under ``root`` (recursively; hidden files and folders skipped).

    When ``root`` has sub-folders holding photos, each first-level sub-folder is a class
    (label = its index in the sorted :attr:`classes`) and photos lying directly in ``root``
    get label ``-1``; without sub-folders every label is ``-1`` and ``classes`` is empty.

    Splits: ``all``, or a fixed ``train``/``val`` split of the photos by a hash of their
    relative path (``val_fraction`` of them in ``val``, stable when photos are added).
    """

    name = "folder"
    title = "Photo folder"
    folder = "photos"
    splits = ("train", "val", "all")
    layout = "<root>/**/*.{" + ",".join(e[1:] for e in IMAGE_EXTENSIONS) + "} (first-level sub-folders = classes)"
    how_to_get = "put your photos in a folder and pass root='path/to/folder'"

    def __init__(self, root=None, split="train", size=64, download=False, transform=None,
                 val_fraction: float = 0.1, split_seed: int = 0):
        self.val_fraction, self.split_seed = float(val_fraction), int(split_seed)
        if download:
            raise ColorlabError("folder: there is nothing to download; pass root= a folder of your photos")
        super().__init__(root, split, size, False, transform)

    @classmethod
    def locate(cls, root) -> Path:
        return cls.default_root() if root is None else Path(root).expanduser()

    @classmethod
    def is_present(cls, root: Path) -> bool:
        return root.is_dir() and bool(list_images(root))

    def _scan(self):
        if not self.root.is_dir():
            what = "a file, not a folder" if self.root.exists() else "not found"
            raise ColorlabError(f"{self.title}: {self.root} is {what}; {self.how_to_get}")
        files = list_images(self.root)
        if not files:
            raise ColorlabError(f"{self.title}: no photos under {self.root} — expected layout: {self.layout}")
        rel = [f.relative_to(self.root) for f in files]
        classes = sorted({r.parts[0] for r in rel if len(r.parts) > 1})
        index = {c: i for i, c in enumerate(classes)}
        samples = []
        for f, r in zip(files, rel):
            if self.split == "all" or hash_split(r.as_posix(), self.split_seed, self.val_fraction) == self.split:
                samples.append((f, index[r.parts[0]] if len(r.parts) > 1 else -1))
        return samples, classes
