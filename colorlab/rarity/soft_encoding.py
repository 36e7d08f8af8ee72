"""Soft-encoding of ab onto the bins (Zhang et al.'s targets) and the annealed mean (their decoding).

:func:`soft_encode_sparse` gives every pixel's ``k`` nearest bins and Gaussian weights,
:func:`soft_encode` the dense ``(N, Q, H, W)`` target, :func:`annealed_mean` turns Q-bin logits
back into ab at a temperature T.

Shapes: ab is ``(N, 2, H, W)`` in Lab units (not normalised); bin centres ``(Q, 2)``.
"""
from __future__ import annotations

import torch

from colorlab.core.errors import ColorlabError
from colorlab.rarity.bins import lattice_neighbours

__all__ = ["soft_encode_sparse", "soft_encode", "annealed_mean"]


def soft_encode_sparse(ab: torch.Tensor, centers: torch.Tensor, k: int = 5, sigma: float = 5.0,
                       chunk: int = 1 << 16) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest bins of every pixel and their Gaussian weights (summing to 1).

    For centres on a regular lattice (Zhang's 313 bins, ``regular<n>`` grids) only the 25 bins of
    the 5 × 5 cells around each pixel are candidates — exact whenever the k-th of them is nearer
    than any bin outside (2.5 cell widths); the few pixels where that fails (far outside the
    bins) are searched over every bin. Several times faster than a (pixels × Q) search.

    Args:
        ab: ``(N, 2, H, W)`` in ab units.
        centers: ``(Q, 2)`` bin centres in ab units.
    Returns:
        ``(index (N, k, H, W) int64, weight (N, k, H, W) float32)``, nearest bin first.
    """
    if ab.dim() != 4 or ab.shape[1] != 2:
        raise ColorlabError(f"ab must have shape (N, 2, H, W), got {tuple(ab.shape)}")
    Q = centers.shape[0]
    if not 1 <= k <= Q:
        raise ColorlabError(f"k must be between 1 and the number of bins ({Q}), got {k}")
    N, _, H, W = ab.shape
    with torch.autocast(ab.device.type, enabled=False):
        pts = ab.float().permute(0, 2, 3, 1).reshape(-1, 2)
        c = centers.to(pts.device, torch.float32)
        lattice = lattice_neighbours(centers.detach().float().cpu().contiguous().numpy().tobytes(), Q) if k <= 25 else None
        if lattice is not None:
            lo, width, G, table = lattice
            cell = ((pts - lo) / width).floor().long().clamp(0, G - 1)
            cand = table.to(pts.device)[cell[:, 0] * G + cell[:, 1]]                 # (P, 25)
            c_pad = torch.cat([c, c.new_full((1, 2), float("inf"))])
            d2 = (pts[:, None, :] - c_pad[cand]).square().sum(-1).nan_to_num(float("inf"))
            d2k, j = d2.topk(k, dim=1, largest=False)
            idx = cand.gather(1, j)
            bad = ~(d2k[:, -1] < (2.5 * width) ** 2)                                # not provably exact
            if bad.any():
                d2b, idxb = torch.cdist(pts[bad], c).square().topk(k, dim=1, largest=False)
                d2k[bad], idx[bad] = d2b, idxb
            w = torch.softmax(-d2k / (2 * sigma ** 2), dim=1)
        else:
            idx_parts, w_parts = [], []
            for s in range(0, pts.shape[0], chunk):  # bounded (chunk, Q) distance matrices
                d2 = torch.cdist(pts[s:s + chunk], c).square()
                d2k, idx = d2.topk(k, dim=1, largest=False)
                idx_parts.append(idx)
                w_parts.append(torch.softmax(-d2k / (2 * sigma ** 2), dim=1))  # exp(-d²/2σ²), normalised
            idx, w = torch.cat(idx_parts), torch.cat(w_parts)
        idx = idx.view(N, H, W, k).permute(0, 3, 1, 2)
        w = w.view(N, H, W, k).permute(0, 3, 1, 2)
    return idx, w


def soft_encode(ab: torch.Tensor, centers: torch.Tensor, k: int = 5, sigma: float = 5.0) -> torch.Tensor:
    """Soft-encode ab ``(N, 2, H, W)`` onto ``Q`` bins → ``(N, Q, H, W)``, each pixel summing to 1.

    Zhang et al.: the ``k`` nearest bin centres (paper 5, their code 10) weighted by
    ``exp(-d² / 2σ²)`` with σ = 5, normalised.
    """
    idx, w = soft_encode_sparse(ab, centers, k, sigma)
    out = torch.zeros(ab.shape[0], centers.shape[0], *ab.shape[-2:], device=ab.device, dtype=torch.float32)
    return out.scatter_(1, idx, w)


def annealed_mean(logits: torch.Tensor, centers: torch.Tensor, T: float = 0.38) -> torch.Tensor:
    """Q-bin logits ``(N, Q, H, W)`` → ab ``(N, 2, H, W)`` (ab units, float32).

    ``softmax(logits / T)`` then the expectation over the bin ``centers (Q, 2)``. T = 1 gives
    the mean of the predicted distribution, T → 0 its mode (``T = 0`` takes the arg-max).
    """
    if T < 0:
        raise ColorlabError(f"annealing temperature T must be >= 0, got {T}")
    if logits.dim() != 4 or logits.shape[1] != centers.shape[0]:
        raise ColorlabError(f"logits must be (N, Q, H, W) with Q = {centers.shape[0]} bins, got {tuple(logits.shape)}")
    c = centers.to(logits.device, torch.float32)
    with torch.autocast(logits.device.type, enabled=False):
        x = logits.float()
        if T == 0:
            return c[x.argmax(1)].permute(0, 3, 1, 2).contiguous()
        probs = torch.softmax(x / T, dim=1)
        return torch.einsum("nqhw,qc->nchw", probs, c)
