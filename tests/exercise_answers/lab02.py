"""Right and wrong answers to the exercises of lab 02 (colour statistics and rarity); see tests/test_exercise_answers.py."""

ANSWERS = {
    "ab_histogram": {
        "right": [
            # NumPy's 2-D histogram (a along the rows, b along the columns)
            '''
def my_ab_histogram(ab, n=64):
    a = ab[:, 0].flatten().numpy()
    b = ab[:, 1].flatten().numpy()
    h, _, _ = np.histogram2d(a, b, bins=n, range=[[-110, 110], [-110, 110]])
    return h.ravel() / h.sum()
''',
            # scatter-add into an (n, n) grid
            '''
def my_ab_histogram(ab, n=64):
    ij = ((ab.permute(1, 0, 2, 3).reshape(2, -1) + 110) * n / 220).floor().long().clamp(0, n - 1)
    grid = torch.zeros(n, n)
    grid.index_put_((ij[0], ij[1]), torch.ones(ij.shape[1]), accumulate=True)
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
    return h.ravel() / h.sum()
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
    return h / h.sum()
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
            # NumPy
            '''
def my_rarity_weights(p, lam=0.5):
    q = p.numpy()
    w = np.reciprocal((1.0 - lam) * q + lam / q.size)
    return w / np.sum(q * w)
''',
            # the kit itself
            '''
from colorlab.rarity.weights import rarity_weights

def my_rarity_weights(p, lam=0.5):
    return rarity_weights(p, "zhang", lam)
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
}
