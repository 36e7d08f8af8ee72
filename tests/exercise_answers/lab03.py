"""Right and wrong answers to lab 03's exercises (see tests/exercise_answers/__init__.py)."""

ANSWERS = {
    "assign_to_nearest": {
        "right": [
            '''
def assign_to_nearest(x, centres):
    return torch.cdist(x, centres).argmin(1)      # distance, not squared: the same arg-min
''',
            '''
def assign_to_nearest(x, centres):
    d2 = torch.stack([((x - c) ** 2).sum(1) for c in centres], 1)   # a loop over the K centres, not the points
    return d2.argmin(1)
''',
            '''
def assign_to_nearest(x, centres):
    # |x - c|^2 = |x|^2 - 2 x.c + |c|^2
    d2 = (x ** 2).sum(1, keepdim=True) - 2 * x @ centres.T + (centres ** 2).sum(1)
    return d2.argmin(dim=1)
''',
        ],
        "wrong": [
            ("the farthest centre (argmax)", '''
def assign_to_nearest(x, centres):
    return ((x[:, None, :] - centres[None, :, :]) ** 2).sum(-1).argmax(1)
'''),
            ("summed over the wrong axis (the centres, not the coordinates): indices 0..D-1", '''
def assign_to_nearest(x, centres):
    return ((x[:, None, :] - centres[None, :, :]) ** 2).sum(1).argmin(1)
'''),
            ("city-block (L1) distance instead of Euclidean", '''
def assign_to_nearest(x, centres):
    return (x[:, None, :] - centres[None, :, :]).abs().sum(-1).argmin(1)
'''),
            ("arg-min over the points instead of the centres", '''
def assign_to_nearest(x, centres):
    return ((x[:, None, :] - centres[None, :, :]) ** 2).sum(-1).argmin(0)
'''),
        ],
    },
    "kmeans": {
        "right": [
            # vectorised update with a one-hot matrix; stop when the centres stop moving
            '''
def kmeans(x, centres, max_iters=100):
    c = centres.clone().float()
    K = len(c)
    for _ in range(max_iters):
        labels = torch.cdist(x, c).argmin(1)
        onehot = torch.nn.functional.one_hot(labels, K).float()       # (N, K)
        counts = onehot.sum(0)                                       # (K,)
        means = onehot.T @ x / counts.clamp_min(1)[:, None]
        new = torch.where(counts[:, None] > 0, means, c)
        if torch.equal(new, c):
            break
        c = new
    d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
    labels = d2.argmin(1)
    return c, labels, d2.min(1).values.sum().item()
''',
            # NumPy, with the assignment first and the test on labels at the end of the loop
            '''
def kmeans(x, centres, max_iters=100):
    X, C = x.numpy().astype(np.float64), centres.numpy().astype(np.float64).copy()
    labels = np.full(len(X), -1)
    for _ in range(max_iters):
        new = ((X[:, None] - C[None]) ** 2).sum(-1).argmin(1)
        if (new == labels).all():
            break
        labels = new
        for j in range(len(C)):
            if (labels == j).any():
                C[j] = X[labels == j].mean(axis=0)
    d2 = ((X[:, None] - C[None]) ** 2).sum(-1)
    labels = d2.argmin(1)
    return C, labels, float(d2[np.arange(len(X)), labels].sum())
''',
            # index_add_ for the sums, bincount for the sizes, a while loop
            '''
def kmeans(x, centres, max_iters=100):
    c, it, changed = centres.clone(), 0, True
    labels = torch.full((len(x),), -1)
    while changed and it < max_iters:
        new = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1).argmin(1)
        changed, labels, it = not torch.equal(new, labels), new, it + 1
        sums = torch.zeros_like(c).index_add_(0, labels, x)
        n = torch.bincount(labels, minlength=len(c)).to(x.dtype)[:, None]
        c = torch.where(n > 0, sums / n.clamp_min(1), c)
    d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    labels = d2.argmin(1)
    return c, labels, d2.gather(1, labels[:, None]).sum()
''',
        ],
        "wrong": [
            ("forgets empty clusters: the mean of no points is NaN", '''
def kmeans(x, centres, max_iters=100):
    c = centres.clone()
    for _ in range(max_iters):
        labels = ((x[:, None, :] - c[None]) ** 2).sum(-1).argmin(1)
        new = torch.stack([x[labels == j].mean(0) for j in range(len(c))])
        if torch.equal(new, c):
            break
        c = new
    d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
    return c, d2.argmin(1), d2.min(1).values.sum()
'''),
            ("one assignment and one update, no loop to convergence", '''
def kmeans(x, centres, max_iters=100):
    c = centres.clone()
    labels = ((x[:, None, :] - c[None]) ** 2).sum(-1).argmin(1)
    for j in range(len(c)):
        if (labels == j).any():
            c[j] = x[labels == j].mean(0)
    d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
    return c, d2.argmin(1), d2.min(1).values.sum()
'''),
            ("inertia as the mean squared distance, not the sum", '''
def kmeans(x, centres, max_iters=100):
    c = centres.clone()
    for _ in range(max_iters):
        labels = ((x[:, None, :] - c[None]) ** 2).sum(-1).argmin(1)
        new = c.clone()
        for j in range(len(c)):
            if (labels == j).any():
                new[j] = x[labels == j].mean(0)
        if torch.equal(new, c):
            break
        c = new
    d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
    return c, d2.argmin(1), d2.min(1).values.mean()
'''),
            ("inertia as the sum of distances, not of squared distances", '''
def kmeans(x, centres, max_iters=100):
    c = centres.clone()
    for _ in range(max_iters):
        labels = torch.cdist(x, c).argmin(1)
        new = c.clone()
        for j in range(len(c)):
            if (labels == j).any():
                new[j] = x[labels == j].mean(0)
        if torch.equal(new, c):
            break
        c = new
    d = torch.cdist(x, c)
    return c, d.argmin(1), d.min(1).values.sum()
'''),
            ("update averages over the wrong axis (the coordinates, not the points)", '''
def kmeans(x, centres, max_iters=100):
    c = centres.clone()
    for _ in range(max_iters):
        labels = ((x[:, None, :] - c[None]) ** 2).sum(-1).argmin(1)
        new = c.clone()
        for j in range(len(c)):
            if (labels == j).any():
                new[j] = x[labels == j].mean(1)
        if torch.equal(new, c):
            break
        c = new
    d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
    return c, d2.argmin(1), d2.min(1).values.sum()
'''),
            ("returns the labels of the starting centres, not of the final ones", '''
def kmeans(x, centres, max_iters=100):
    c = centres.clone()
    first = ((x[:, None, :] - c[None]) ** 2).sum(-1).argmin(1)
    for _ in range(max_iters):
        labels = ((x[:, None, :] - c[None]) ** 2).sum(-1).argmin(1)
        new = c.clone()
        for j in range(len(c)):
            if (labels == j).any():
                new[j] = x[labels == j].mean(0)
        if torch.equal(new, c):
            break
        c = new
    d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
    return c, first, d2.min(1).values.sum()
'''),
        ],
    },
    "choose_k": {
        "right": [
            # from the largest K down: the first K whose centre still removed a fifth of J
            '''
def choose_k(inertias):
    for K in range(len(inertias), 1, -1):
        if inertias[K - 1] <= 0.8 * inertias[K - 2]:
            return K
    return 1
''',
            # the smallest K after which no centre removes a quarter of what is left
            '''
def choose_k(inertias):
    J = list(inertias)
    for K in range(1, len(J) + 1):
        if all(J[j] > 0.75 * J[j - 1] for j in range(K, len(J))):
            return K
    return len(J)
''',
            # on a log scale: the last K where log J still falls by more than 0.2
            '''
def choose_k(inertias):
    steps = np.diff(np.log(np.asarray(inertias)))      # steps[i] = log J(K = i + 2) - log J(K = i + 1)
    big = np.nonzero(steps < -0.2)[0]
    return int(big.max()) + 2 if big.size else 1
''',
        ],
        "wrong": [
            ("the K with the lowest objective (always the largest K)", '''
def choose_k(inertias):
    return int(np.argmin(inertias)) + 1
'''),
            ("the paper's K = 4 whatever the data", '''
def choose_k(inertias):
    return 4
'''),
            ("the K with the biggest absolute drop in J (always near K = 2)", '''
def choose_k(inertias):
    return int(np.argmax(-np.diff(inertias))) + 2
'''),
            ("the K with the largest fractional cut: the most striking gap, not the last one", '''
def choose_k(inertias):
    J = np.asarray(inertias)
    return int(np.argmax(J[:-1] / J[1:])) + 2
'''),
            ("the right rule, off by one: index i read as K = i", '''
def choose_k(inertias):
    J = np.asarray(inertias)
    big = np.flatnonzero(J[1:] <= 0.8 * J[:-1])
    return int(big[-1]) + 1 if len(big) else 1
'''),
        ],
    },
}
