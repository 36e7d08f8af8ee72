"""Right and wrong answers to lab 04's exercises (see tests/exercise_answers/__init__.py)."""

ANSWERS = {
    "best_constant_ab": {
        "right": [
            '''
def best_constant_ab(ab):
    return ab.mean(dim=(2, 3)).mean(dim=0)      # every image has as many pixels: the mean of means is the mean
''',
            '''
def best_constant_ab(ab):
    return ab.transpose(0, 1).reshape(2, -1).mean(1)
''',
            '''
def best_constant_ab(ab):
    n = ab.shape[0] * ab.shape[2] * ab.shape[3]
    return torch.stack([ab[:, 0].sum() / n, ab[:, 1].sum() / n])
''',
        ],
        "wrong": [
            ("the midrange (halfway between the extremes): right only when both colours are equally common", '''
def best_constant_ab(ab):
    return (ab.amax(dim=(0, 2, 3)) + ab.amin(dim=(0, 2, 3))) / 2
'''),
            ("the per-channel median: the minimiser of the absolute (L1) error, not of MSE", '''
def best_constant_ab(ab):
    return ab.transpose(0, 1).reshape(2, -1).median(dim=1).values
'''),
            ("the first pixel", '''
def best_constant_ab(ab):
    return ab[0, :, 0, 0]
'''),
            ("the mean of the first image only", '''
def best_constant_ab(ab):
    return ab[0].mean(dim=(1, 2))
'''),
            ("the most common colour (the mode), rounded", '''
def best_constant_ab(ab):
    flat = ab.transpose(0, 1).reshape(2, -1).round(decimals=-1)
    values, counts = flat.T.unique(dim=0, return_counts=True)
    return values[counts.argmax()]
'''),
        ],
    },
    "conv_block": {
        "right": [
            '''
def conv_block(in_ch, out_ch, stride=1):
    # with a bias: BatchNorm subtracts each channel's mean, so the bias makes no difference in training
    return torch.nn.Sequential(torch.nn.Conv2d(in_ch, out_ch, kernel_size=3, stride=stride, padding=1),
                               torch.nn.BatchNorm2d(out_ch), torch.nn.ReLU())
''',
            '''
import torch.nn as nn
import torch.nn.functional as F

class ConvBlock(nn.Module):
    def __init__(self, in_ch, out_ch, stride):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))

def conv_block(in_ch, out_ch, stride=1):
    return ConvBlock(in_ch, out_ch, stride)
''',
            '''
from collections import OrderedDict

def conv_block(in_ch, out_ch, stride=1):
    return torch.nn.Sequential(OrderedDict(
        conv=torch.nn.Conv2d(in_ch, out_ch, (3, 3), stride=(stride, stride), padding="same" if stride == 1 else 1,
                             bias=False),
        bn=torch.nn.BatchNorm2d(out_ch), relu=torch.nn.ReLU(inplace=True)))
''',
        ],
        "wrong": [
            ("ReLU before BatchNorm: the output is normalised, so it has negative values", '''
def conv_block(in_ch, out_ch, stride=1):
    return torch.nn.Sequential(torch.nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1),
                               torch.nn.ReLU(), torch.nn.BatchNorm2d(out_ch))
'''),
            ("no padding: a 3x3 conv loses a pixel on every side", '''
def conv_block(in_ch, out_ch, stride=1):
    return torch.nn.Sequential(torch.nn.Conv2d(in_ch, out_ch, 3, stride=stride),
                               torch.nn.BatchNorm2d(out_ch), torch.nn.ReLU())
'''),
            ("the stride is ignored", '''
def conv_block(in_ch, out_ch, stride=1):
    return torch.nn.Sequential(torch.nn.Conv2d(in_ch, out_ch, 3, padding=1),
                               torch.nn.BatchNorm2d(out_ch), torch.nn.ReLU())
'''),
            ("downsampling by max-pooling after a stride-1 conv: the right shape, not the same block", '''
def conv_block(in_ch, out_ch, stride=1):
    return torch.nn.Sequential(torch.nn.Conv2d(in_ch, out_ch, 3, padding=1), torch.nn.BatchNorm2d(out_ch),
                               torch.nn.ReLU(), torch.nn.MaxPool2d(stride, ceil_mode=True))
'''),
            ("BatchNorm over the input channels", '''
def conv_block(in_ch, out_ch, stride=1):
    return torch.nn.Sequential(torch.nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1),
                               torch.nn.BatchNorm2d(in_ch), torch.nn.ReLU())
'''),
        ],
    },
    "train_step": {
        "right": [
            # fastai's order: zero the gradients after the step instead of before the backward pass
            '''
def train_step(model, opt, L, ab):
    loss = ((model(L) - ab) ** 2).mean()
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()
''',
            '''
import torch.nn.functional as F

def train_step(model, opt, L, ab):
    model.zero_grad()
    pred = model(L)
    loss = F.mse_loss(pred, ab)
    loss.backward()
    opt.step()
    return float(loss.detach())
''',
            '''
loss_fn = torch.nn.MSELoss()

def train_step(model, opt, L, ab):
    opt.zero_grad(set_to_none=False)
    loss = loss_fn(model(L), ab)
    loss.backward()
    opt.step()
    return loss.item()
''',
        ],
        "wrong": [
            ("forgets zero_grad: the gradients of every step add up", '''
def train_step(model, opt, L, ab):
    loss = torch.nn.functional.mse_loss(model(L), ab)
    loss.backward()
    opt.step()
    return loss.item()
'''),
            ("opt.step() before loss.backward(): the step has no gradient yet", '''
def train_step(model, opt, L, ab):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(L), ab)
    opt.step()
    loss.backward()
    return loss.item()
'''),
            ("zero_grad between backward and step: the gradients are thrown away", '''
def train_step(model, opt, L, ab):
    loss = torch.nn.functional.mse_loss(model(L), ab)
    loss.backward()
    opt.zero_grad()
    opt.step()
    return loss.item()
'''),
            ("L1 (mean absolute error) instead of MSE", '''
def train_step(model, opt, L, ab):
    opt.zero_grad()
    loss = (model(L) - ab).abs().mean()
    loss.backward()
    opt.step()
    return loss.item()
'''),
            ("the summed squared error: gradients as many times larger as there are numbers", '''
def train_step(model, opt, L, ab):
    opt.zero_grad()
    loss = ((model(L) - ab) ** 2).sum()
    loss.backward()
    opt.step()
    return loss.item()
'''),
            ("returns the loss after the update (a second forward pass)", '''
def train_step(model, opt, L, ab):
    opt.zero_grad()
    torch.nn.functional.mse_loss(model(L), ab).backward()
    opt.step()
    with torch.no_grad():
        return torch.nn.functional.mse_loss(model(L), ab).item()
'''),
        ],
    },
}
