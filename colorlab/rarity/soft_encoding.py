"""Soft-encoding of ab onto the bins (Zhang et al.'s targets) and the annealed mean (their decoding).

:func:`soft_encode_sparse` gives every pixel's ``k`` nearest bins and Gaussian weights,
:func:`soft_encode` the dense ``(N, Q, H, W)`` target, :func:`annealed_mean` turns Q-bin logits
back into ab at a temperature T.

Shapes: ab is ``(N, 2, H, W)`` in Lab units (not normalised); bin centres ``(Q, 2)``.
"""
from __future__ import annotations

import weakref

import torch

from colorlab.core.errors import ColorlabError
from colorlab.rarity.bins import lattice_neighbours

__all__ = ["soft_encode_sparse", "soft_encode", "annealed_mean"]


#: centres tensor id → (weak reference, version, {device: (lo, width, G, table on that device)} or None)
_LATTICES: dict[int, tuple] = {}


def _lattice(centers: torch.Tensor, device: torch.device):
    """:func:`lattice_neighbours` of ``centers`` with its table on ``device``, remembered per centres tensor
    (the same buffer on every call of a loss: no host copy of the centres, no table copy after the first)."""
    key = id(centers)
    hit = _LATTICES.get(key)
    if hit is None or hit[0]() is not centers or hit[1] != centers._version:
        Q = centers.shape[0]
        found = lattice_neighbours(centers.detach().float().cpu().contiguous().numpy().tobytes(), Q)
        for stale in [k for k, v in _LATTICES.items() if v[0]() is None]:
            del _LATTICES[stale]
        hit = _LATTICES[key] = (weakref.ref(centers), centers._version, {} if found is not None else None, found)
    tables, found = hit[2], hit[3]
    if found is None:
        return None
    if device not in tables:
        lo, width, G, table = found
        tables[device] = (lo, width, G, table.to(device))
    return tables[device]


def _sq_dist(pts: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Exact squared distances ``(P, Q)`` in fp32 (no matmul form: no cancellation, no TF32)."""
    return torch.cdist(pts, c, compute_mode="donot_use_mm_for_euclid_dist").square()


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
        # the lattice search needs one host-side check of its rare misses: CPU only; on an accelerator the
        # exhaustive search is cheap and needs no device-to-host sync
        lattice = _lattice(centers, pts.device) if k <= 25 and pts.device.type == "cpu" else None
        if lattice is not None:
            lo, width, G, table = lattice
            cell = ((pts - lo) / width).floor().long().clamp(0, G - 1)
            cand = table[cell[:, 0] * G + cell[:, 1]]                                # (P, 25)
            c_pad = torch.cat([c, c.new_full((1, 2), float("inf"))])
            d2 = (pts[:, None, :] - c_pad[cand]).square().sum(-1).nan_to_num(float("inf"))
            d2k, j = d2.topk(k, dim=1, largest=False)
            idx = cand.gather(1, j)
            bad = ~(d2k[:, -1] < (2.5 * width) ** 2)                                # not provably exact
            if bad.any():
                d2b, idxb = _sq_dist(pts[bad], c).topk(k, dim=1, largest=False)
                d2k[bad], idx[bad] = d2b, idxb
            w = torch.softmax(-d2k / (2 * sigma ** 2), dim=1)
        else:
            idx_parts, w_parts = [], []
            for s in range(0, pts.shape[0], chunk):  # bounded (chunk, Q) distance matrices
                d2 = _sq_dist(pts[s:s + chunk], c)
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
