"""Right and wrong answers to the exercises of lab 02 (colour statistics and rarity); see tests/test_exercise_answers.py."""

ANSWERS = {
    "ab_histogram": {
        "right": [
            # NumPy's 2-D histogram (a along the rows, b along the columns), back into a tensor
            '''
def my_ab_histogram(ab, n=64):
    a = ab[:, 0].flatten().numpy()
    b = ab[:, 1].flatten().numpy()
    h, _, _ = np.histogram2d(a, b, bins=n, range=[[-110, 110], [-110, 110]])
    return torch.from_numpy(h.ravel() / h.sum())
''',
            # scatter-add into an (n, n) grid
            '''
def my_ab_histogram(ab, n=64):
    ij = ((ab.permute(1, 0, 2, 3).reshape(2, -1) + 110) * n / 220).floor().long().clamp(0, n - 1)
    grid = torch.zeros(n, n, dtype=torch.float64)
    grid.index_put_((ij[0], ij[1]), torch.ones(ij.shape[1], dtype=torch.float64), accumulate=True)
    return (grid / grid.sum()).reshape(-1)
''',
            # the kit's own bin look-up
            '''
from colorlab.rarity.bins import BinLookup

def my_ab_histogram(ab, n=64):
    idx = BinLookup(f"regular{n}")(ab).reshape(-1)
    p = torch.zeros(n * n, dtype=torch.float64).index_add_(0, idx, torch.ones(idx.numel(), dtype=torch.float64))
    return p / idx.numel()
''',
        ],
        "wrong": [
            ("a and b swapped in the flat index: the grid transposed (subtle)", '''
def my_ab_histogram(ab, n=64):
    width = 220.0 / n
    i = ((ab[:, 0] + 110) / width).floor().long().clamp(0, n - 1)
    j = ((ab[:, 1] + 110) / width).floor().long().clamp(0, n - 1)
    counts = torch.bincount((j * n + i).flatten(), minlength=n * n)
    return counts.double() / counts.sum()
'''),
            ("raw counts, not normalised", '''
def my_ab_histogram(ab, n=64):
    width = 220.0 / n
    i = ((ab[:, 0] + 110) / width).floor().long().clamp(0, n - 1)
    j = ((ab[:, 1] + 110) / width).floor().long().clamp(0, n - 1)
    return torch.bincount((i * n + j).flatten(), minlength=n * n).double()
'''),
            ("bins over [−128, 128], another codebase's ab range (subtle)", '''
def my_ab_histogram(ab, n=64):
    a = ab[:, 0].flatten().numpy()
    b = ab[:, 1].flatten().numpy()
    h, _, _ = np.histogram2d(a, b, bins=n, range=[[-128, 128], [-128, 128]])
    return torch.from_numpy(h.ravel() / h.sum())
'''),
            ("round instead of floor: bins shifted by half a width", '''
def my_ab_histogram(ab, n=64):
    width = 220.0 / n
    i = ((ab[:, 0] + 110) / width).round().long().clamp(0, n - 1)
    j = ((ab[:, 1] + 110) / width).round().long().clamp(0, n - 1)
    counts = torch.bincount((i * n + j).flatten(), minlength=n * n)
    return counts.double() / counts.sum()
'''),
            ("returns the (n, n) grid", '''
def my_ab_histogram(ab, n=64):
    a = ab[:, 0].flatten().numpy()
    b = ab[:, 1].flatten().numpy()
    h, _, _ = np.histogram2d(a, b, bins=n, range=[[-110, 110], [-110, 110]])
    return torch.from_numpy(h / h.sum())
'''),
            ("float32 fractions: counts / counts.sum() on int64 counts (the contract says float64)", '''
def my_ab_histogram(ab, n=64):
    width = 220.0 / n
    i = ((ab[:, 0] + 110) / width).floor().long().clamp(0, n - 1)
    j = ((ab[:, 1] + 110) / width).floor().long().clamp(0, n - 1)
    counts = torch.bincount((i * n + j).flatten(), minlength=n * n)
    return counts / counts.sum()
'''),
        ],
    },
    "rarity_weights": {
        "right": [
            # mix, invert, scale: one line each, with len()
            '''
def my_rarity_weights(p, lam=0.5):
    mixed = (1 - lam) * p + lam / len(p)
    w = 1 / mixed
    return w / torch.dot(p, w)
''',
            # NumPy, back into a tensor
            '''
def my_rarity_weights(p, lam=0.5):
    q = p.numpy()
    w = np.reciprocal((1.0 - lam) * q + lam / q.size)
    return torch.from_numpy(w / np.sum(q * w))
''',
            # the mixture as a linear interpolation towards the uniform distribution
            '''
def my_rarity_weights(p, lam=0.5):
    uniform = torch.full_like(p, 1.0 / p.shape[0])
    w = torch.reciprocal(torch.lerp(p, uniform, lam))
    return w / torch.sum(p * w)
''',
        ],
        "wrong": [
            ("not normalised: Σ p·w ≠ 1", '''
def my_rarity_weights(p, lam=0.5):
    return 1.0 / ((1 - lam) * p + lam / p.numel())
'''),
            ("λ added without dividing by Q (subtle: still normalised)", '''
def my_rarity_weights(p, lam=0.5):
    w = 1.0 / ((1 - lam) * p + lam)
    return w / (p * w).sum()
'''),
            ("the uniform part added after inverting (subtle: still normalised)", '''
def my_rarity_weights(p, lam=0.5):
    w = (1 - lam) / p.clamp_min(1e-12) + lam / p.numel()
    return w / (p * w).sum()
'''),
            ("normalised by the plain mean over bins, not by Σ p·w (subtle)", '''
def my_rarity_weights(p, lam=0.5):
    w = 1.0 / ((1 - lam) * p + lam / p.numel())
    return w / w.mean()
'''),
            ("normalised to sum to 1, as Robles & Budach did", '''
def my_rarity_weights(p, lam=0.5):
    w = 1.0 / ((1 - lam) * p + lam / p.numel())
    return w / w.sum()
'''),
        ],
    },
    "lambda_for_ceiling": {
        "right": [
            # bisection on the largest weight, which falls as λ grows
            '''
def my_lambda_for_ceiling(p, ceiling):
    def largest(lam):
        w = 1 / ((1 - lam) * p + lam / p.numel())
        return float((w / (p * w).sum()).max())
    if (p > 0).all() and largest(0.0) <= ceiling:
        return 0.0
    lo, hi = 0.0, 1.0
    while hi - lo > 1e-9:
        mid = (lo + hi) / 2
        if largest(mid) > ceiling:
            lo = mid
        else:
            hi = mid
    return hi
''',
            # a root finder on the rarest bin's weight, written out: (1/((1−λ)p_min + λ/Q)) / Σ p/((1−λ)p + λ/Q)
            '''
from scipy.optimize import brentq

def my_lambda_for_ceiling(p, ceiling):
    q = p.numpy()
    Q = q.size
    def excess(lam):
        return 1 / ((1 - lam) * q.min() + lam / Q) / np.sum(q / ((1 - lam) * q + lam / Q)) - ceiling
    if q.min() > 0 and excess(0.0) <= 0:
        return 0.0
    return float(brentq(excess, 1e-12, 1.0, xtol=1e-12))
''',
            # a grid of λ on a log scale, then a finer grid around the first λ that stays under the ceiling
            '''
def my_lambda_for_ceiling(p, ceiling):
    def largest(lams):
        w = 1 / ((1 - lams[:, None]) * p[None] + lams[:, None] / p.numel())
        return (w / (p[None] * w).sum(1, keepdim=True)).max(1).values
    if (p > 0).all() and float(largest(torch.zeros(1, dtype=p.dtype))[0]) <= ceiling:
        return 0.0
    lams = torch.logspace(-8, 0, 401, dtype=p.dtype)
    k = int(torch.nonzero(largest(lams) <= ceiling)[0])
    lo = float(lams[k - 1]) if k > 0 else 0.0
    fine = torch.linspace(lo, float(lams[k]), 1001, dtype=p.dtype)[1:]
    return float(fine[int(torch.nonzero(largest(fine) <= ceiling)[0])])
''',
        ],
        "wrong": [
            ("only the bins the data saw (p > 0): the never-seen bins carry the largest weight (subtle)", '''
def my_lambda_for_ceiling(p, ceiling):
    seen = p > 0
    def largest(lam):
        w = 1 / ((1 - lam) * p + lam / p.numel())
        return float((w / (p * w).sum())[seen].max())
    lo, hi = 0.0, 1.0
    while hi - lo > 1e-9:
        mid = (lo + hi) / 2
        if largest(mid) > ceiling:
            lo = mid
        else:
            hi = mid
    return hi
'''),
            ("the ceiling applied to the weights before scaling them to Σ p·w = 1", '''
def my_lambda_for_ceiling(p, ceiling):
    def largest(lam):
        return float((1 / ((1 - lam) * p + lam / p.numel())).max())
    lo, hi = 0.0, 1.0
    while hi - lo > 1e-9:
        mid = (lo + hi) / 2
        if largest(mid) > ceiling:
            lo = mid
        else:
            hi = mid
    return hi
'''),
            ("the bisection turned the wrong way: it assumes the weights grow with λ", '''
def my_lambda_for_ceiling(p, ceiling):
    def largest(lam):
        w = 1 / ((1 - lam) * p + lam / p.numel())
        return float((w / (p * w).sum()).max())
    lo, hi = 0.0, 1.0
    while hi - lo > 1e-9:
        mid = (lo + hi) / 2
        if largest(mid) > ceiling:
            hi = mid
        else:
            lo = mid
    return hi
'''),
            ("a coarse search in steps of 0.05: safe, but more λ than needed (subtle)", '''
def my_lambda_for_ceiling(p, ceiling):
    for lam in np.arange(0.0, 1.0001, 0.05):
        w = 1 / ((1 - lam) * p + lam / p.numel())
        if float((w / (p * w).sum()).max()) <= ceiling:
            return float(lam)
    return 1.0
'''),
            ("λ = 1 whatever the ceiling: safe, and no rebalancing at all", '''
def my_lambda_for_ceiling(p, ceiling):
    return 1.0
'''),
        ],
    },
}
