"""Right and wrong answers to lab 05's exercises (see tests/exercise_answers/__init__.py)."""

ANSWERS = {
    "pixel_weights": {
        "right": [
            # nearest bin centre by distance (the centres of the regular grid, built by hand)
            """
def pixel_weights(ab, w, n):
    width = 220.0 / n
    c = -110.0 + (torch.arange(n, dtype=torch.float32) + 0.5) * width
    centres = torch.stack(torch.meshgrid(c, c, indexing="ij"), -1).reshape(-1, 2)   # (n·n, 2), a then b
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    nearest = torch.cdist(flat, centres).argmin(1)
    return w[nearest].reshape(ab.shape[0], *ab.shape[2:])
""",
            # the kit's own look-up
            """
from colorlab.rarity.bins import BinLookup

def pixel_weights(ab, w, n):
    return w[BinLookup(f"regular{n}")(ab)]
""",
            # bucketize against the bin edges, then a 2-D index
            """
def pixel_weights(ab, w, n):
    inner = torch.linspace(-110.0, 110.0, n + 1)[1:-1]
    i = torch.bucketize(ab[:, 0].contiguous(), inner, right=True)
    j = torch.bucketize(ab[:, 1].contiguous(), inner, right=True)
    return w.view(n, n)[i, j]
""",
            # nearest centre by rounding (x − ½): the same cell as floor
            """
def pixel_weights(ab, w, n):
    x = (ab + 110.0) * n / 220.0
    ij = torch.round(x - 0.5).long().clamp(0, n - 1)
    return w[ij[:, 0] * n + ij[:, 1]]
""",
        ],
        "wrong": [
            ("a and b swapped in the flat index (subtle)", """
def pixel_weights(ab, w, n):
    width = 220.0 / n
    i = ((ab[:, 0] + 110.0) / width).floor().long().clamp(0, n - 1)
    j = ((ab[:, 1] + 110.0) / width).floor().long().clamp(0, n - 1)
    return w[j * n + i]
"""),
            ("rounds to the nearest cell border instead of taking the cell (subtle)", """
def pixel_weights(ab, w, n):
    width = 220.0 / n
    i = ((ab[:, 0] + 110.0) / width).round().long().clamp(0, n - 1)
    j = ((ab[:, 1] + 110.0) / width).round().long().clamp(0, n - 1)
    return w[i * n + j]
"""),
            ("no clamping: b = 110 spills into the next row of bins", """
def pixel_weights(ab, w, n):
    width = 220.0 / n
    i = ((ab[:, 0] + 110.0) / width).floor().long()
    j = ((ab[:, 1] + 110.0) / width).floor().long()
    return w[i * n + j]
"""),
            ("the grid taken from 0 instead of −110", """
def pixel_weights(ab, w, n):
    width = 220.0 / n
    ij = (ab / width).floor().long().clamp(0, n - 1)
    return w[ij[:, 0] * n + ij[:, 1]]
"""),
        ],
    },
    "blended_loss": {
        "right": [
            # one weight per pixel: alpha + (1 − alpha)·w
            """
def my_blended_loss(pred, target, w, alpha=0.65):
    err = (pred - target).pow(2).mean(dim=1)
    return ((alpha + (1 - alpha) * w) * err).mean()
""",
            # torch's MSE and a weight broadcast over the channels
            """
import torch.nn.functional as F

def my_blended_loss(pred, target, w, alpha=0.65):
    weighted = (w[:, None] * (pred - target) ** 2).mean()
    return alpha * F.mse_loss(pred, target) + (1 - alpha) * weighted
""",
            # einsum: the per-pixel error as a dot product over the two channels
            """
def my_blended_loss(pred, target, w, alpha=0.65):
    sq = torch.einsum("nchw,nchw->nhw", pred - target, pred - target) / pred.shape[1]
    return alpha * sq.mean() + (1 - alpha) * torch.einsum("nhw,nhw->", w, sq) / w.numel()
""",
        ],
        "wrong": [
            ("the weights are never used", """
def my_blended_loss(pred, target, w, alpha=0.65):
    err = (pred - target).square().mean(1)
    return alpha * err.mean() + (1 - alpha) * err.mean()
"""),
            ("a weighted average, Σ w·e / Σ w, instead of the mean of w·e (subtle)", """
def my_blended_loss(pred, target, w, alpha=0.65):
    err = (pred - target).square().mean(1)
    return alpha * err.mean() + (1 - alpha) * (w * err).sum() / w.sum()
"""),
            ("alpha on the wrong term", """
def my_blended_loss(pred, target, w, alpha=0.65):
    err = (pred - target).square().mean(1)
    return (1 - alpha) * err.mean() + alpha * (w * err).mean()
"""),
            ("squared error summed over a and b instead of averaged (subtle)", """
def my_blended_loss(pred, target, w, alpha=0.65):
    err = (pred - target).square().sum(1)
    return alpha * err.mean() + (1 - alpha) * (w * err).mean()
"""),
            ("w broadcast against the channel axis", """
def my_blended_loss(pred, target, w, alpha=0.65):
    sq = (pred - target).square()
    return alpha * sq.mean() + (1 - alpha) * (w * sq).mean()
"""),
        ],
    },
    "up_stage": {
        "right": [
            # nearest-neighbour upsampling and a 1×1 conv instead of the transposed conv
            """
import torch.nn as nn

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(in_ch, out_ch, 1))
        self.conv = nn.Sequential(nn.Conv2d(out_ch + skip_ch, out_ch, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(out_ch, out_ch, 3, padding=1), nn.ReLU())

    def forward(self, x, skip):
        return self.conv(torch.cat([self.up(x), skip], 1))
""",
            # bilinear interpolation to the skip's size, all channels straight into the conv block
            """
import torch.nn as nn
import torch.nn.functional as F

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch + skip_ch, out_ch, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_ch)

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        y = F.relu(self.bn1(self.conv1(torch.cat([x, skip], dim=1))))
        return F.relu(self.bn2(self.conv2(y)))
""",
            # the kit's building blocks, skip first in the concatenation
            """
import torch.nn as nn
from colorlab.models.base import conv_bn_relu

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, out_ch, 2, stride=2)
        self.block = nn.Sequential(conv_bn_relu(skip_ch + out_ch, out_ch), conv_bn_relu(out_ch, out_ch))

    def forward(self, x, skip):
        return self.block(torch.cat((skip, self.up(x)), dim=1))
""",
        ],
        "wrong": [
            ("forgets the skip connection", """
import torch.nn as nn

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, out_ch, 2, stride=2)
        self.conv = nn.Sequential(nn.Conv2d(out_ch, out_ch, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(out_ch, out_ch, 3, padding=1), nn.ReLU())

    def forward(self, x, skip):
        return self.conv(self.up(x))
"""),
            ("the conv block is sized for out_ch channels, not out_ch + skip_ch", """
import torch.nn as nn

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, out_ch, 2, stride=2)
        self.conv = nn.Sequential(nn.Conv2d(out_ch, out_ch, 3, padding=1), nn.ReLU())

    def forward(self, x, skip):
        return self.conv(torch.cat([self.up(x), skip], 1))
"""),
            ("merges at the coarse scale: pools the skip down, upsamples afterwards (subtle)", """
import torch.nn as nn
import torch.nn.functional as F

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(in_ch + skip_ch, out_ch, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(out_ch, out_ch, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(out_ch, out_ch, 2, stride=2)

    def forward(self, x, skip):
        y = self.conv(torch.cat([x, F.avg_pool2d(skip, 2)], 1))
        return self.up(y)
"""),
            ("no ReLU: conv, BN, conv, BN is one affine map (subtle)", """
import torch.nn as nn

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, out_ch, 2, stride=2)
        self.conv = nn.Sequential(nn.Conv2d(out_ch + skip_ch, out_ch, 3, padding=1, bias=False), nn.BatchNorm2d(out_ch),
                                  nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False), nn.BatchNorm2d(out_ch))

    def forward(self, x, skip):
        return self.conv(torch.cat([self.up(x), skip], 1))
"""),
            ("built like the kit, but BatchNorm after the ReLU (subtle: only the weight-for-weight comparison sees it)", """
import torch.nn as nn

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, out_ch, 2, stride=2)
        self.conv = nn.Sequential(nn.Conv2d(out_ch + skip_ch, out_ch, 3, padding=1, bias=False), nn.ReLU(),
                                  nn.BatchNorm2d(out_ch),
                                  nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False), nn.ReLU(),
                                  nn.BatchNorm2d(out_ch))

    def forward(self, x, skip):
        return self.conv(torch.cat([self.up(x), skip], 1))
"""),
        ],
    },
}
