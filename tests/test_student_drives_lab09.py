"""Lab 09: the student's ``encode_patch_hints`` paints the hints the lab's hint model is trained with and evaluated
on (``HintSampler(encode=...)`` in ``train_hint_model`` and ``hints_vs_psnr``). A different function changes what the
experiment computes; the kit's own function gives exactly the default hints."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
import torch.nn as nn

from colorlab.evaluation.hints import hints_vs_psnr
from colorlab.hints.sampling import HintSampler, encode_patch_hints
from colorlab.training.callbacks import HintCallback


class _OracleHintModel(nn.Module):
    """The hint colour where there is a hint, gray elsewhere: its PSNR is as good as its hints."""

    in_channels, head = 4, "regression"

    def forward(self, x):
        return x[:, 1:3] * x[:, 3:4]


def _gray_hints(ab, tops, lefts, sizes):
    """A wrong encoding: the right mask, but every hint gray."""
    out = encode_patch_hints(ab, tops, lefts, sizes).clone()
    out[:2] = 0
    return out


def _ab(seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(4, 2, 16, 20, generator=g) * 1.2 - 0.6)


def _photos() -> np.ndarray:
    """Four colourful 32 × 32 photos: smooth colour ramps, different per image."""
    y, x = np.mgrid[0:32, 0:32] / 31.0
    out = []
    for k in range(4):
        r, g, b = (0.5 + 0.5 * np.sin(3 * x + k)), (0.5 + 0.5 * np.cos(2 * y + 2 * k)), (0.5 + 0.4 * np.sin(x * y * 5 + k))
        out.append((np.stack([r, g, b], -1) * 255).astype(np.uint8))
    return np.stack(out)


def test_the_kits_encoding_gives_the_default_hints():
    ab = _ab()
    for n in (None, 7):
        default = HintSampler()(ab, generator=torch.Generator().manual_seed(3), n=n)
        kit = HintSampler(encode=encode_patch_hints)(ab, generator=torch.Generator().manual_seed(3), n=n)
        # the same function as a student's (another object): painted image by image, the same hints
        by_image = HintSampler(encode=lambda *a: encode_patch_hints(*a))(ab, generator=torch.Generator().manual_seed(3), n=n)
        other = HintSampler(encode=_gray_hints)(ab, generator=torch.Generator().manual_seed(3), n=n)
        assert torch.allclose(default, kit, atol=1e-6) and torch.allclose(default, by_image, atol=1e-6)
        assert torch.equal(other[:, 2], default[:, 2]) and not torch.allclose(other, default)


def test_a_different_encoding_changes_the_hints_vs_psnr_table():
    photos = _photos()
    kw = dict(counts=(0, 20), seed=0, device="cpu", progress=False)
    default = hints_vs_psnr(_OracleHintModel(), photos, sampler=HintSampler(), **kw)["psnr"].to_numpy()
    kit = hints_vs_psnr(_OracleHintModel(), photos, sampler=HintSampler(encode=encode_patch_hints), **kw)["psnr"].to_numpy()
    other = hints_vs_psnr(_OracleHintModel(), photos, sampler=HintSampler(encode=_gray_hints), **kw)["psnr"].to_numpy()
    assert np.allclose(default, kit, atol=1e-4)
    assert kit[1] > kit[0] + 0.5                      # true-colour hints help the oracle
    assert abs(other[1] - other[0]) < 1e-6 and other[1] < kit[1] - 0.5   # gray hints do not


def test_the_training_callback_feeds_the_model_the_students_hints():
    """train_hint_model hands its sampler to HintCallback; the model's input is what the encoding painted."""
    ab = _ab(1)
    L = torch.zeros(4, 1, 16, 20)
    inputs = {}
    for name, encode in (("kit", encode_patch_hints), ("gray", _gray_hints)):
        cb = HintCallback(HintSampler(encode=encode, p=0.2))
        cb.learn = SimpleNamespace(xb=(L,), yb=(ab,), training=False, dls=SimpleNamespace(device="cpu"))
        cb.before_validate()
        cb.before_batch()
        inputs[name] = cb.learn.xb[0]
    assert inputs["kit"].shape == (4, 4, 16, 20)
    assert inputs["kit"][:, 1:3].abs().sum() > 0 and inputs["gray"][:, 1:3].abs().sum() == 0
    assert torch.equal(inputs["kit"][:, 3], inputs["gray"][:, 3])
