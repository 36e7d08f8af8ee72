"""Show a colorizer trained in another colour space (YCbCr) through the kit's Lab interface."""
from __future__ import annotations

import torch

from colorlab.core.color import LAB, ColorSpace, denormalize_l, get_colorspace, gray_rgb
from colorlab.core.errors import ColorlabError

__all__ = ["LabView"]


class LabView(torch.nn.Module):
    """Show a colorizer trained in another colour space through the Lab interface.

    ``forward(L_norm (N, 1, H, W)) → normalised ab (N, 2, H, W)``, so :func:`colorlab.evaluation.evaluate.evaluate`,
    galleries and ``colorize`` can use it unchanged. The gray input is read as a neutral gray
    photo (RGB = lab_to_rgb(L, 0, 0)), which is exactly what a real black-and-white photo gives;
    on a colour photo's L it differs slightly from the true Y the model was trained on.
    """

    def __init__(self, model: torch.nn.Module, colorspace: str | ColorSpace):
        super().__init__()
        self.model, self.space = model, get_colorspace(colorspace)
        if getattr(model, "head", "regression") != "regression":
            raise ColorlabError("LabView needs a regression-head colorizer")
        self.config = dict(getattr(model, "config", {}), colorspace=self.space.name)
        self.head, self.in_channels = "regression", getattr(model, "in_channels", 1)
        self.stride = getattr(model, "stride", 1)

    def forward(self, L_norm: torch.Tensor) -> torch.Tensor:
        gray, _ = self.space.split(gray_rgb(denormalize_l(L_norm[:, :1].float())))
        x = torch.cat([gray, L_norm[:, 1:]], 1) if L_norm.shape[1] > 1 else gray
        rgb = self.space.join(gray, self.model(x).float())
        return LAB.split(rgb)[1]
