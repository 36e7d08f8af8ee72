"""Right and wrong answers to the exercises of lab 01 (the Lab colour space); see tests/test_exercise_answers.py."""

_MATRIX = '''
M_RGB_TO_XYZ = torch.tensor([[0.412453, 0.357580, 0.180423],
                             [0.212671, 0.715160, 0.072169],
                             [0.019334, 0.119193, 0.950227]])
D65 = torch.tensor([0.95047, 1.0, 1.08883])
'''

ANSWERS = {
    "chroma_hue": {
        "right": [
            # unbind and hypot
            '''
def my_chroma_hue(ab):
    a, b = ab.unbind(-3)
    return torch.hypot(a, b), torch.rad2deg(torch.atan2(b, a)) % 360
''',
            # vector norm over the channel axis, degrees by hand, wrap with where
            '''
import math

def my_chroma_hue(ab):
    C = torch.linalg.vector_norm(ab, dim=-3)
    h = torch.atan2(ab.select(-3, 1), ab.select(-3, 0)) * 180 / math.pi
    return C, torch.where(h < 0, h + 360, h)
''',
            # NumPy, wrapped back into tensors
            '''
def my_chroma_hue(ab):
    x = ab.numpy()
    a, b = x[..., 0, :, :], x[..., 1, :, :]
    return torch.from_numpy(np.sqrt(a * a + b * b)), torch.from_numpy(np.degrees(np.arctan2(b, a)) % 360)
''',
        ],
        "wrong": [
            ("atan2 arguments swapped: atan2(a, b) (subtle: every output is in [0, 360))", '''
def my_chroma_hue(ab):
    a, b = ab[..., 0, :, :], ab[..., 1, :, :]
    return torch.sqrt(a ** 2 + b ** 2), torch.rad2deg(torch.atan2(a, b)) % 360
'''),
            ("hue not wrapped: −180° … 180°", '''
def my_chroma_hue(ab):
    a, b = ab[..., 0, :, :], ab[..., 1, :, :]
    return torch.sqrt(a ** 2 + b ** 2), torch.rad2deg(torch.atan2(b, a))
'''),
            ("the wrong axis: ab[:, 0] works for a batch, not for a single image", '''
def my_chroma_hue(ab):
    a, b = ab[:, 0], ab[:, 1]
    return torch.sqrt(a ** 2 + b ** 2), torch.rad2deg(torch.atan2(b, a)) % 360
'''),
            ("chroma without the square root", '''
def my_chroma_hue(ab):
    a, b = ab[..., 0, :, :], ab[..., 1, :, :]
    return a ** 2 + b ** 2, torch.rad2deg(torch.atan2(b, a)) % 360
'''),
            ("hue in radians", '''
def my_chroma_hue(ab):
    a, b = ab[..., 0, :, :], ab[..., 1, :, :]
    return torch.sqrt(a ** 2 + b ** 2), torch.atan2(b, a) % (2 * np.pi)
'''),
        ],
    },
    "rgb_to_lab": {
        "right": [
            # the channels one by one, matrix rows written out
            _MATRIX + '''
def my_rgb_to_lab(rgb):
    lin = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    r, g, b = lin[:, 0], lin[:, 1], lin[:, 2]
    M = M_RGB_TO_XYZ
    X = (M[0, 0] * r + M[0, 1] * g + M[0, 2] * b) / D65[0]
    Y = (M[1, 0] * r + M[1, 1] * g + M[1, 2] * b) / D65[1]
    Z = (M[2, 0] * r + M[2, 1] * g + M[2, 2] * b) / D65[2]

    def f(t):
        return torch.where(t > 0.008856, torch.pow(t.clamp(min=1e-12), 1 / 3), 7.787 * t + 16 / 116)

    return torch.stack([116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))], dim=1)
''',
            # channels last and a matmul, in float64
            _MATRIX + '''
def my_rgb_to_lab(rgb):
    x = rgb.double().permute(0, 2, 3, 1)
    lin = torch.where(x > 0.04045, ((x + 0.055) / 1.055) ** 2.4, x / 12.92)
    t = (lin @ M_RGB_TO_XYZ.double().T) / D65.double()
    f = torch.where(t > 0.008856, t.abs() ** (1 / 3), 7.787 * t + 16 / 116)
    L = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return torch.stack([L, a, b], dim=-1).permute(0, 3, 1, 2).float()
''',
        ],
        "wrong": [
            ("companding not undone: the matrix applied to sRGB values", _MATRIX + '''
def my_rgb_to_lab(rgb):
    xyz = torch.einsum("ij,njhw->nihw", M_RGB_TO_XYZ.to(rgb), rgb) / D65.to(rgb).view(1, 3, 1, 1)
    f = torch.where(xyz > 0.008856, xyz.clamp_min(1e-12) ** (1 / 3), 7.787 * xyz + 16 / 116)
    return torch.cat([116 * f[:, 1:2] - 16, 500 * (f[:, 0:1] - f[:, 1:2]), 200 * (f[:, 1:2] - f[:, 2:3])], 1)
'''),
            ("cube root everywhere: the straight line near black forgotten (subtle: only dark colours differ)", _MATRIX + '''
def my_rgb_to_lab(rgb):
    lin = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = torch.einsum("ij,njhw->nihw", M_RGB_TO_XYZ.to(rgb), lin) / D65.to(rgb).view(1, 3, 1, 1)
    f = xyz.clamp_min(0) ** (1 / 3)
    return torch.cat([116 * f[:, 1:2] - 16, 500 * (f[:, 0:1] - f[:, 1:2]), 200 * (f[:, 1:2] - f[:, 2:3])], 1)
'''),
            ("not divided by the white point (subtle: L is still right)", _MATRIX + '''
def my_rgb_to_lab(rgb):
    lin = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = torch.einsum("ij,njhw->nihw", M_RGB_TO_XYZ.to(rgb), lin)
    f = torch.where(xyz > 0.008856, xyz.clamp_min(1e-12) ** (1 / 3), 7.787 * xyz + 16 / 116)
    return torch.cat([116 * f[:, 1:2] - 16, 500 * (f[:, 0:1] - f[:, 1:2]), 200 * (f[:, 1:2] - f[:, 2:3])], 1)
'''),
            ("the matrix transposed (einsum 'ji')", _MATRIX + '''
def my_rgb_to_lab(rgb):
    lin = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = torch.einsum("ji,njhw->nihw", M_RGB_TO_XYZ.to(rgb), lin) / D65.to(rgb).view(1, 3, 1, 1)
    f = torch.where(xyz > 0.008856, xyz.clamp_min(1e-12) ** (1 / 3), 7.787 * xyz + 16 / 116)
    return torch.cat([116 * f[:, 1:2] - 16, 500 * (f[:, 0:1] - f[:, 1:2]), 200 * (f[:, 1:2] - f[:, 2:3])], 1)
'''),
        ],
    },
    "split_batch": {
        "right": [
            # the kit's own helpers
            '''
from colorlab.core.color import normalize_ab, normalize_l, rgb_to_lab

def my_split_batch(images):
    lab = rgb_to_lab(images.permute(0, 3, 1, 2).contiguous())
    return normalize_l(lab[:, :1]), normalize_ab(lab[:, 1:])
''',
            # the one-call version, the axis moved with movedim
            '''
from colorlab.core.color import split_lab

def my_split_batch(images):
    return split_lab(images.movedim(-1, 1))
''',
            # one image at a time, in a loop
            '''
from colorlab.core.color import AB_SCALE, rgb_to_lab

def my_split_batch(images):
    Ls, abs_ = [], []
    for img in images:
        lab = rgb_to_lab(img.permute(2, 0, 1).float() / 255.0)
        Ls.append((lab[:1] - 50) / 50)
        abs_.append(lab[1:] / AB_SCALE)
    return torch.stack(Ls), torch.stack(abs_)
''',
        ],
        "wrong": [
            ("reshape instead of permute (subtle: the shapes are right, the pixels scrambled)", '''
from colorlab.core.color import rgb_to_lab

def my_split_batch(images):
    x = images
    lab = rgb_to_lab(x.reshape(x.shape[0], 3, x.shape[1], x.shape[2]))
    return lab[:, :1] / 50 - 1, lab[:, 1:] / 110
'''),
            ("ab divided by 128, another codebase's convention (subtle)", '''
from colorlab.core.color import rgb_to_lab

def my_split_batch(images):
    lab = rgb_to_lab(images.permute(0, 3, 1, 2))
    return lab[:, :1] / 50 - 1, lab[:, 1:] / 128
'''),
            ("L scaled to [0, 1] instead of [−1, 1]", '''
from colorlab.core.color import rgb_to_lab

def my_split_batch(images):
    lab = rgb_to_lab(images.permute(0, 3, 1, 2))
    return lab[:, :1] / 100, lab[:, 1:] / 110
'''),
            ("not normalised at all", '''
from colorlab.core.color import rgb_to_lab

def my_split_batch(images):
    lab = rgb_to_lab(images.permute(0, 3, 1, 2))
    return lab[:, :1], lab[:, 1:]
'''),
            ("float without dividing by 255 (everything clipped to white)", '''
from colorlab.core.color import rgb_to_lab

def my_split_batch(images):
    lab = rgb_to_lab(images.permute(0, 3, 1, 2).float())
    return lab[:, :1] / 50 - 1, lab[:, 1:] / 110
'''),
            ("NumPy arrays returned: the contract asks for tensors", '''
from colorlab.core.color import rgb_to_lab

def my_split_batch(images):
    lab = rgb_to_lab(images.permute(0, 3, 1, 2)).numpy()
    return lab[:, :1] / 50 - 1, lab[:, 1:] / 110
'''),
            ("the colour axis never moved", '''
from colorlab.core.color import rgb_to_lab

def my_split_batch(images):
    lab = rgb_to_lab(images)
    return lab[:, :1] / 50 - 1, lab[:, 1:] / 110
'''),
        ],
    },
}
