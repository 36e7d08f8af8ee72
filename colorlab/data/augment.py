"""Training-data augmentation: the papers' flips, zooms, rotations, shears and shifts, on the batch's device.

Seeds 001 and 003 augment with Keras' ``ImageDataGenerator`` (horizontal flip, zoom, rotation,
shear, width/height shift, ``fill_mode="nearest"``). :class:`Augment` does the same with
torchvision ``transforms.v2`` on RGB batches ``(B, 3, H, W)`` in [0, 1] wherever they are (CPU
or GPU). It is applied to RGB *before* the Lab split (``colorlab.data.loaders.LabBatch(augment=...)``),
so the gray input and the colour target are always warped identically.

Keras' "nearest" fill repeats the border pixels into the area uncovered by the warp; we get it
by padding with the edge pixels (``v2.Pad(padding_mode="edge")``), warping, and cropping back.

>>> aug = make_augment("papers")        # the papers' recipe; make_augment(None) -> None (off)
>>> out = aug(torch.rand(8, 3, 32, 32))
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from colorlab.core.errors import ColorlabError

__all__ = ["Augment", "make_augment", "PAPERS_RECIPE"]

#: The papers' augmentations with typical Keras magnitudes (the papers name the transforms, not the values).
PAPERS_RECIPE = dict(flip=True, rotation=20.0, zoom=0.2, shear=10.0, shift=0.1, fill="nearest")


@dataclass
class Augment:
    """A random geometric augmentation of an RGB batch, drawn independently for every image.

    Args:
        flip: random horizontal flip (probability ½).
        rotation: maximum rotation in degrees (uniform in ``[−rotation, rotation]``).
        zoom: scale drawn from ``[1 − zoom, 1 + zoom]``.
        shear: maximum shear angle in degrees (x axis).
        shift: maximum width/height shift as a fraction of the side.
        fill: ``"nearest"`` (repeat border pixels, as Keras) or ``"constant"`` (black).
        interpolation: ``"bilinear"`` or ``"nearest"``.
        p: probability that an image is augmented at all.

    Call with one batch ``(B, C, H, W)`` or several batches of the same shape: each image index
    gets one random draw, applied to the same image in every batch (so ``aug(rgb, lab)`` warps
    both identically). Returns a tensor (or a tuple) of the input's shape, device and dtype.
    """

    flip: bool = True
    rotation: float = 0.0
    zoom: float = 0.0
    shear: float = 0.0
    shift: float = 0.0
    fill: str = "nearest"
    interpolation: str = "bilinear"
    p: float = 1.0

    def __post_init__(self):
        if self.fill not in ("nearest", "constant"):
            raise ColorlabError(f"augment fill must be 'nearest' or 'constant', got {self.fill!r}")
        if self.interpolation not in ("bilinear", "nearest"):
            raise ColorlabError(f"augment interpolation must be 'bilinear' or 'nearest', got {self.interpolation!r}")
        for name in ("rotation", "zoom", "shear", "shift"):
            if getattr(self, name) < 0:
                raise ColorlabError(f"augment {name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.zoom < 1.0 or not 0.0 <= self.shift < 1.0:
            raise ColorlabError("augment zoom and shift must be fractions in [0, 1)")
        self._transforms: dict[tuple[int, int], v2.Transform] = {}

    @property
    def geometric(self) -> bool:
        return any((self.rotation, self.zoom, self.shear, self.shift))

    def transform(self, height: int, width: int) -> v2.Transform:
        """The torchvision pipeline for one image of ``height × width`` (built once per size)."""
        key = (height, width)
        if key not in self._transforms:
            steps: list[v2.Transform] = []
            if self.flip:
                steps.append(v2.RandomHorizontalFlip())
            if self.geometric:
                pad = max(height, width) // 2 if self.fill == "nearest" else 0
                # translate is a fraction of the padded side; scale it so the shift is of the image's
                frac_h, frac_w = self.shift * width / (width + 2 * pad), self.shift * height / (height + 2 * pad)
                affine = v2.RandomAffine(degrees=self.rotation, translate=(frac_h, frac_w) if self.shift else None,
                                         scale=(1 - self.zoom, 1 + self.zoom) if self.zoom else None,
                                         shear=self.shear or None, interpolation=self.interpolation, fill=0)
                if pad:
                    steps += [v2.Pad(pad, padding_mode="edge"), affine, v2.CenterCrop((height, width))]
                else:
                    steps.append(affine)
            t: v2.Transform = v2.Compose(steps) if steps else v2.Identity()
            self._transforms[key] = v2.RandomApply([t], p=self.p) if self.p < 1 else t
        return self._transforms[key]

    def __call__(self, *batches: torch.Tensor):
        if not batches:
            raise ColorlabError("Augment needs at least one batch")
        first = batches[0]
        for b in batches:
            if b.dim() != 4 or b.shape[0] != first.shape[0] or b.shape[-2:] != first.shape[-2:]:
                raise ColorlabError(f"Augment needs batches (B, C, H, W) of one size, got "
                                    f"{[tuple(x.shape) for x in batches]}")
        t = self.transform(*first.shape[-2:])
        outs = [torch.empty_like(b) for b in batches]
        # one random draw per image: a Python loop over images (never pixels), each warp on the device
        for i in range(first.shape[0]):
            warped = t(*[tv_tensors.Image(b[i]) for b in batches])
            warped = warped if isinstance(warped, tuple) else (warped,)
            for o, w in zip(outs, warped):
                o[i] = w.as_subclass(torch.Tensor)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items()}


def make_augment(spec) -> Augment | None:
    """An :class:`Augment` from a run's ``augment`` setting.

    ``None``/``False``/``"none"`` → None (off); ``True``/``"papers"`` → :data:`PAPERS_RECIPE`;
    a dict → ``Augment(**dict)`` (keys as in :class:`Augment`); an ``Augment`` is returned as is.
    """
    if spec is None or spec is False or spec == "none":
        return None
    if isinstance(spec, Augment):
        return spec
    if spec is True or spec == "papers":
        return Augment(**PAPERS_RECIPE)
    if isinstance(spec, dict):
        try:
            return Augment(**spec)
        except TypeError as e:
            raise ColorlabError(f"bad augment option: {e}") from None
    raise ColorlabError(f"augment must be false, true, 'papers' or a dict of options, got {spec!r}")
