"""Right and wrong answers to lab 05's exercises (see tests/exercise_answers/__init__.py)."""

ANSWERS = {
    "pixel_weights": {
        "right": [
            # the kit's normalisation constant
            """
from colorlab.core.color import AB_SCALE

def my_pixel_weights(target, weights, bin_index):
    return weights[bin_index(target * AB_SCALE)]
""",
            # take: index the flat weights with the (N, H, W) indices
            """
def my_pixel_weights(target, weights, bin_index):
    idx = bin_index(target * 110.0)
    return torch.take(weights, idx)
""",
            # index_select on the flattened indices, then back to (N, H, W)
            """
def my_pixel_weights(target, weights, bin_index):
    ab = torch.cat([target[:, :1] * 110, target[:, 1:] * 110], dim=1)
    idx = bin_index(ab)
    return weights.index_select(0, idx.reshape(-1)).reshape(idx.shape)
""",
        ],
        "wrong": [
            ("binned the normalised target: every pixel lands next to gray (subtle)", """
def my_pixel_weights(target, weights, bin_index):
    return weights[bin_index(target)]
"""),
            ("rescaled so that the batch averages 1 (subtle)", """
def my_pixel_weights(target, weights, bin_index):
    w = weights[bin_index(target * 110)]
    return w / w.mean()
"""),
            ("divided by 110 instead of multiplying", """
def my_pixel_weights(target, weights, bin_index):
    return weights[bin_index(target / 110)]
"""),
            ("keeps a channel axis: (N, 1, H, W)", """
def my_pixel_weights(target, weights, bin_index):
    return weights[bin_index(target * 110)][:, None]
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
            # ½‖ŷ − y‖² per pixel, written as a dot product over the two channels
            """
def my_blended_loss(pred, target, w, alpha=0.65):
    e = 0.5 * torch.einsum("nchw,nchw->nhw", pred - target, pred - target)
    return alpha * e.mean() + (1 - alpha) * torch.einsum("nhw,nhw->", w, e) / w.numel()
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
            # the kit's building blocks
            """
import torch.nn as nn
from colorlab.models.base import conv_bn_relu

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, out_ch, 2, stride=2)
        self.block = nn.Sequential(conv_bn_relu(out_ch + skip_ch, out_ch), conv_bn_relu(out_ch, out_ch))

    def forward(self, x, skip):
        return self.block(torch.cat((self.up(x), skip), dim=1))
""",
            # layers declared in another order, a functional ReLU
            """
import torch.nn as nn
import torch.nn.functional as F

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.norm1, self.norm2 = nn.BatchNorm2d(out_ch), nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False)
        self.conv1 = nn.Conv2d(out_ch + skip_ch, out_ch, 3, padding=1, bias=False)
        self.upsample = nn.ConvTranspose2d(in_ch, out_ch, kernel_size=2, stride=2)

    def forward(self, x, skip):
        y = torch.cat([self.upsample(x), skip], 1)
        y = F.relu(self.norm1(self.conv1(y)))
        return F.relu(self.norm2(self.conv2(y)))
""",
            # conv biases left on: each BatchNorm cancels its conv's bias (harmless, wasted parameters)
            """
import torch.nn as nn

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, out_ch, 2, 2)
        layers, c = [], out_ch + skip_ch
        for _ in range(2):
            layers += [nn.Conv2d(c, out_ch, 3, padding=1), nn.BatchNorm2d(out_ch), nn.ReLU()]
            c = out_ch
        self.conv = nn.Sequential(*layers)

    def forward(self, x, skip):
        return self.conv(torch.cat([self.up(x), skip], dim=1))
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
            ("BatchNorm after the ReLU, the layers' default bias=True (subtle: passed the old weight-shape check)", """
import torch.nn as nn

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, out_ch, 2, stride=2)
        self.conv = nn.Sequential(nn.Conv2d(out_ch + skip_ch, out_ch, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(out_ch),
                                  nn.Conv2d(out_ch, out_ch, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(out_ch))

    def forward(self, x, skip):
        return self.conv(torch.cat([self.up(x), skip], 1))
"""),
            ("BatchNorm after the ReLU, bias=False", """
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
            ("the skip concatenated before the upsampled x (subtle: the old check accepted it)", """
import torch.nn as nn
from colorlab.models.base import conv_bn_relu

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, out_ch, 2, stride=2)
        self.block = nn.Sequential(conv_bn_relu(skip_ch + out_ch, out_ch), conv_bn_relu(out_ch, out_ch))

    def forward(self, x, skip):
        return self.block(torch.cat((skip, self.up(x)), dim=1))
"""),
            ("no BatchNorm: another design (nearest-neighbour upsampling, a 1×1 conv, conv + ReLU twice)", """
import torch.nn as nn

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(in_ch, out_ch, 1))
        self.conv = nn.Sequential(nn.Conv2d(out_ch + skip_ch, out_ch, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(out_ch, out_ch, 3, padding=1), nn.ReLU())

    def forward(self, x, skip):
        return self.conv(torch.cat([self.up(x), skip], 1))
"""),
            ("transposed conv and BatchNorm, but no BatchNorm in one of the two convs", """
import torch.nn as nn

class UpStage(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, out_ch, 2, stride=2)
        self.conv = nn.Sequential(nn.Conv2d(out_ch + skip_ch, out_ch, 3, padding=1, bias=False), nn.BatchNorm2d(out_ch),
                                  nn.ReLU(), nn.Conv2d(out_ch, out_ch, 3, padding=1), nn.ReLU())

    def forward(self, x, skip):
        return self.conv(torch.cat([self.up(x), skip], 1))
"""),
        ],
    },
}
