"""Right and wrong answers to lab 06's exercises (see tests/exercise_answers/__init__.py)."""

ANSWERS = {
    "fuse": {
        "right": [
            # repeat a (N, D, 1, 1) view: real copies instead of a broadcast view
            """
def fuse(local, g):
    N, D = g.shape
    return torch.cat([local, g.view(N, D, 1, 1).repeat(1, 1, *local.shape[-2:])], dim=1)
""",
            # broadcasting by addition onto zeros
            """
def fuse(local, g):
    N, _, H, W = local.shape
    grid = g[:, :, None, None] + local.new_zeros(N, g.shape[1], H, W)
    return torch.cat((local, grid), 1)
""",
            # repeat_interleave along D, then reshape: each entry of g repeated H·W times in a row
            """
def fuse(local, g):
    N, _, H, W = local.shape
    grid = g.repeat_interleave(H * W, dim=1).reshape(N, g.shape[1], H, W)
    return torch.cat([local, grid], 1)
""",
            # channels last, then back
            """
def fuse(local, g):
    N, _, H, W = local.shape
    grid = g[:, None, None, :].expand(N, H, W, g.shape[1]).permute(0, 3, 1, 2)
    return torch.cat([local, grid], 1)
""",
        ],
        "wrong": [
            ("the global vector first, the local features after", """
def fuse(local, g):
    N, _, H, W = local.shape
    return torch.cat([g[:, :, None, None].expand(N, g.shape[1], H, W), local], 1)
"""),
            ("repeat along D, then view: the entries of g are shuffled across positions (subtle)", """
def fuse(local, g):
    N, _, H, W = local.shape
    return torch.cat([local, g.repeat(1, H * W).view(N, g.shape[1], H, W)], 1)
"""),
            ("channels-last expand reshaped without a permute (subtle)", """
def fuse(local, g):
    N, _, H, W = local.shape
    grid = g[:, None, None, :].expand(N, H, W, g.shape[1]).reshape(N, g.shape[1], H, W)
    return torch.cat([local, grid], 1)
"""),
            ("tiled along the batch axis: images get each other's vectors (subtle)", """
def fuse(local, g):
    N, _, H, W = local.shape
    return torch.cat([local, g.repeat(H * W, 1).view(N, g.shape[1], H, W)], 1)
"""),
            ("H and W swapped in the expand", """
def fuse(local, g):
    N, _, H, W = local.shape
    return torch.cat([local, g[:, :, None, None].expand(N, g.shape[1], W, H)], 1)
"""),
        ],
    },
    "fusion_layer": {
        "right": [
            # the 1×1 convolution by torch's conv2d
            """
import torch.nn.functional as F

def fusion_layer(local, g, weight, bias):
    N, _, H, W = local.shape
    x = torch.cat([local, g.view(N, -1, 1, 1).expand(-1, -1, H, W)], 1)
    return F.relu(F.conv2d(x, weight[:, :, None, None], bias))
""",
            # channels last: one linear layer applied at every position
            """
import torch.nn.functional as F

def fusion_layer(local, g, weight, bias):
    N, _, H, W = local.shape
    x = torch.cat([local, g[:, :, None, None].expand(N, g.shape[1], H, W)], 1)
    y = F.linear(x.permute(0, 2, 3, 1), weight, bias)
    return y.clamp(min=0).permute(0, 3, 1, 2)
""",
            # no tiling at all: the global part of the 1×1 conv is one vector per image, a per-image bias
            """
def fusion_layer(local, g, weight, bias):
    C = local.shape[1]
    y = torch.einsum("fc,nchw->nfhw", weight[:, :C], local)
    per_image = g @ weight[:, C:].T + bias
    return torch.relu(y + per_image[:, :, None, None])
""",
        ],
        "wrong": [
            ("repeat along D, then view: g is shuffled across positions (subtle)", """
def fusion_layer(local, g, weight, bias):
    N, _, H, W = local.shape
    x = torch.cat([local, g.repeat(1, H * W).view(N, g.shape[1], H, W)], 1)
    return torch.relu(torch.einsum("fc,nchw->nfhw", weight, x) + bias[None, :, None, None])
"""),
            ("channels-last expand reshaped without a permute (subtle)", """
def fusion_layer(local, g, weight, bias):
    N, _, H, W = local.shape
    grid = g[:, None, None, :].expand(N, H, W, g.shape[1]).reshape(N, g.shape[1], H, W)
    x = torch.cat([local, grid], 1)
    return torch.relu(torch.einsum("fc,nchw->nfhw", weight, x) + bias[None, :, None, None])
"""),
            ("no ReLU", """
def fusion_layer(local, g, weight, bias):
    N, _, H, W = local.shape
    x = torch.cat([local, g[:, :, None, None].expand(N, g.shape[1], H, W)], 1)
    return torch.einsum("fc,nchw->nfhw", weight, x) + bias[None, :, None, None]
"""),
            ("the bias added after the ReLU (subtle)", """
def fusion_layer(local, g, weight, bias):
    N, _, H, W = local.shape
    x = torch.cat([local, g[:, :, None, None].expand(N, g.shape[1], H, W)], 1)
    return torch.relu(torch.einsum("fc,nchw->nfhw", weight, x)) + bias[None, :, None, None]
"""),
            ("the weight used as (C + D, F)", """
def fusion_layer(local, g, weight, bias):
    N, _, H, W = local.shape
    x = torch.cat([local, g[:, :, None, None].expand(N, g.shape[1], H, W)], 1)
    return torch.relu(torch.einsum("cf,nchw->nfhw", weight, x) + bias[None, :, None, None])
"""),
        ],
    },
    "fusion_point": {
        "right": [
            # right after the first convolution: the pooled features have seen texture, n − 1 layers follow
            """
def my_fusion_point(n_convs):
    return 1
""",
            # in the middle: half the layers see locally, half mix local and global
            """
def my_fusion_point(n_convs):
    return n_convs // 2
""",
            # as late as possible while a non-linear layer still follows (the kit's FusionColorizer: after the encoder)
            """
def my_fusion_point(n_convs):
    return n_convs - 1
""",
        ],
        "wrong": [
            ("fuses the raw input: its average says nothing about the cue (subtle: the global view is there)", """
def my_fusion_point(n_convs):
    return 0
"""),
            ("fuses after the last convolution: only the linear head follows (subtle)", """
def my_fusion_point(n_convs):
    return n_convs
"""),
            ("one past the end", """
def my_fusion_point(n_convs):
    return n_convs + 1
"""),
            ("a fraction instead of a layer number", """
def my_fusion_point(n_convs):
    return 0.5
"""),
        ],
    },
}
