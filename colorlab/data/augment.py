"""Training-data augmentation: the papers' flips, zooms, rotations, shears and shifts, on the batch's device.

Seeds 001 and 003 augment with Keras' ``ImageDataGenerator`` (horizontal flip, zoom, rotation,
shear, width/height shift, ``fill_mode="nearest"``). :class:`Augment` does the same on RGB batches
``(B, 3, H, W)`` in [0, 1] wherever they are (CPU or GPU), the whole batch at once: one random draw
per image, one affine matrix per image, one ``F.affine_grid`` + ``F.grid_sample`` for the batch (no
Python loop over images, no host sync). It is applied to RGB *before* the Lab split
(``colorlab.data.loaders.LabBatch(augment=...)``), so the gray input and the colour target are always
warped identically.

Keras' "nearest" fill repeats the border pixels into the area uncovered by the warp:
``grid_sample(padding_mode="border")``.

>>> aug = make_augment("papers")        # the papers' recipe; make_augment(None) -> None (off)
>>> out = aug(torch.rand(8, 3, 32, 32))
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

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

    @property
    def geometric(self) -> bool:
        return any((self.rotation, self.zoom, self.shear, self.shift))

    def draw(self, batch: int, height: int, width: int, device) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One random draw per image, on ``device``: ``(flip (B,) bool, theta (B, 2, 3) or None)``.

        ``theta`` maps each output pixel to the input point it samples (``F.affine_grid``'s normalised
        coordinates): the inverse of zoom, then shear, then rotation about the centre, then the shift.
        """
        dev = torch.device(device)
        u = torch.rand(batch, 6, device=dev)
        on = u[:, 0] < self.p
        flip = on & (u[:, 1] < 0.5) if self.flip else torch.zeros(batch, dtype=torch.bool, device=dev)
        if not self.geometric:
            return flip, None
        angle = torch.deg2rad((2 * u[:, 2] - 1) * self.rotation)
        shear = torch.deg2rad((2 * u[:, 3] - 1) * self.shear)
        scale = 1 + (2 * u[:, 4] - 1) * self.zoom
        shift = (2 * torch.rand(batch, 2, device=dev) - 1) * self.shift * torch.tensor([width, height], device=dev)
        cos, sin, tan = torch.cos(angle), torch.sin(angle), torch.tan(shear)
        # forward map in pixels about the centre: A = scale · R(angle) · [[1, tan], [0, 1]]; its inverse by hand
        a, b, c, d = cos * scale, (cos * tan - sin) * scale, sin * scale, (sin * tan + cos) * scale
        det = a * d - b * c
        inv = torch.stack([torch.stack([d, -b], -1), torch.stack([-c, a], -1)], -2) / det[:, None, None]
        half = torch.tensor([width / 2, height / 2], device=dev)
        lin = inv * half[None, None, :] / half[None, :, None]            # P⁻¹ A⁻¹ P (normalised coordinates)
        off = -(inv @ shift[..., None])[..., 0] / half                  # − P⁻¹ A⁻¹ t
        eye = torch.eye(2, 3, device=dev).expand(batch, 2, 3)
        theta = torch.where(on[:, None, None], torch.cat([lin, off[..., None]], -1), eye)
        return flip, theta

    def __call__(self, *batches: torch.Tensor):
        if not batches:
            raise ColorlabError("Augment needs at least one batch")
        first = batches[0]
        for b in batches:
            if b.dim() != 4 or b.shape[0] != first.shape[0] or b.shape[-2:] != first.shape[-2:]:
                raise ColorlabError(f"Augment needs batches (B, C, H, W) of one size, got "
                                    f"{[tuple(x.shape) for x in batches]}")
        B, (H, W) = first.shape[0], first.shape[-2:]
        flip, theta = self.draw(B, H, W, first.device)  # one draw per image, all images warped at once
        grid = None if theta is None else F.affine_grid(theta, [B, 1, H, W], align_corners=False)
        outs = []
        for b in batches:
            x = torch.where(flip[:, None, None, None], b.flip(-1), b)
            if grid is not None:
                warped = F.grid_sample(x.float(), grid.to(torch.float32), mode=self.interpolation,
                                       padding_mode="border" if self.fill == "nearest" else "zeros",
                                       align_corners=False)
                x = warped.to(b.dtype) if b.is_floating_point() else warped.round().to(b.dtype)
            outs.append(x)
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
