"""Routed colorization: K colorizers behind a router that picks one per photo (Robles & Budach; Siswanto & Karnati).

:class:`RoutedColorizer` is an ``nn.Module`` that sends each photo to the colorizer of its group, chosen
by a predictor (:mod:`colorlab.models.predictor`) from the gray photo or by given labels; it plugs into
:func:`colorlab.evaluation.evaluate.evaluate` like any model. The group colorizers are trained by
:func:`colorlab.training.routing.train_per_group`.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from colorlab.core.errors import ColorlabError

__all__ = ["RoutedColorizer", "routed_forward"]


def routed_forward(L: torch.Tensor, classifier, colorizers) -> torch.Tensor:
    """``L (N, 1, H, W)`` → ab ``(N, 2, H, W)``: image *i* coloured by the colorizer of its group
    ``argmax_k classifier(L)[i, k]``, in the batch's order; each colorizer runs once, on its own images only
    (lab 08's exercise has this contract; :func:`colorlab.evaluation.routing.routing_experiment` takes another)."""
    group = classifier(L).argmax(dim=1)
    out = L.new_zeros(L.shape[0], 2, *L.shape[-2:], dtype=torch.float32)
    for k, model in enumerate(colorizers):
        sel = (group == k).nonzero().squeeze(1)
        if sel.numel():
            out[sel] = model(L[sel]).float()
    return out


class RoutedColorizer(nn.Module):
    """K colorizers behind a router: each photo is coloured by the colorizer of its group.

    ``forward(L_norm (N, C, H, W)) → (N, 2, H, W)`` normalised ab, like any regression colorizer.
    The group of each photo comes from ``router(L_norm)`` — a predictor returning logits
    ``(N, K)`` (it sees only the gray photo) — or, when set, from :attr:`route` (fixed labels
    ``(N,)`` for the next call, e.g. the true profiles for an "oracle" routing).
    """

    def __init__(self, colorizers, router: nn.Module | None = None):
        super().__init__()
        self.colorizers = nn.ModuleList(colorizers)
        if not len(self.colorizers):
            raise ColorlabError("RoutedColorizer needs at least one colorizer")
        heads = {getattr(m, "head", "regression") for m in self.colorizers}
        if heads != {"regression"}:
            raise ColorlabError("RoutedColorizer routes regression colorizers (wrap Q-bin models first)")
        self.router = router
        first = self.colorizers[0]
        self.head, self.in_channels = "regression", getattr(first, "in_channels", 1)
        self.stride = max(getattr(m, "stride", 1) for m in self.colorizers)
        self.config = {"name": "routed", "k": len(self.colorizers),
                       "colorizers": [getattr(m, "config", {}) for m in self.colorizers]}
        self.route: torch.Tensor | None = None
        self.last_route: torch.Tensor | None = None

    def groups_of(self, L_norm: torch.Tensor) -> torch.Tensor:
        """Group index ``(N,)`` of each photo (fixed :attr:`route` or the router's arg-max)."""
        if self.route is not None:
            g = torch.as_tensor(self.route, device=L_norm.device).long()
            if g.shape != (L_norm.shape[0],):
                raise ColorlabError(f"route has {tuple(g.shape)} labels for a batch of {L_norm.shape[0]}")
            return g
        if self.router is None:
            raise ColorlabError("no router: pass router= (a profile/category predictor) or set .route")
        return self.router(L_norm[:, :1]).argmax(1)

    def forward(self, L_norm: torch.Tensor) -> torch.Tensor:
        g = self.groups_of(L_norm)
        if int(g.max()) >= len(self.colorizers) or int(g.min()) < 0:
            raise ColorlabError(f"routed to group {int(g.max())} but there are {len(self.colorizers)} colorizers")
        out = L_norm.new_zeros(L_norm.shape[0], 2, *L_norm.shape[-2:], dtype=torch.float32)
        for k, model in enumerate(self.colorizers):
            sel = (g == k).nonzero().squeeze(1)
            if sel.numel():
                out[sel] = model(L_norm[sel]).float()
        self.last_route = g.detach()
        return out
