"""Right and wrong answers to lab 07's exercises (run by tests/test_exercise_answers.py)."""

ANSWERS = {
    "annealed_mean": {
        "right": [
            # the formula of the handout: re-sharpen the probabilities z, f_T(z) = exp(log z / T) / Σ exp(log z_q / T)
            '''def my_annealed_mean(logits, centres, T=0.38):
    z = torch.softmax(logits, dim=1)
    f = torch.exp(torch.log(z) / T)
    f = f / f.sum(dim=1, keepdim=True)
    return torch.einsum("nqhw,qc->nchw", f, centres)
''',
            # broadcasting instead of einsum
            '''def my_annealed_mean(logits, centres, T=0.38):
    p = torch.softmax(logits / T, dim=1)                       # (N, Q, H, W)
    a = (p * centres[:, 0].view(1, -1, 1, 1)).sum(1)
    b = (p * centres[:, 1].view(1, -1, 1, 1)).sum(1)
    return torch.stack([a, b], dim=1)
''',
            # stable by hand: subtract the max, exponentiate, normalise; tensordot
            '''def my_annealed_mean(logits, centres, T=0.38):
    x = logits / T
    e = torch.exp(x - x.amax(dim=1, keepdim=True))
    p = e / e.sum(dim=1, keepdim=True)
    return torch.tensordot(p, centres, dims=([1], [0])).permute(0, 3, 1, 2)
''',
        ],
        "wrong": [
            ("no temperature: the plain mean at every T", '''def my_annealed_mean(logits, centres, T=0.38):
    probs = torch.softmax(logits, dim=1)
    return torch.einsum("nqhw,qc->nchw", probs, centres)
'''),
            ("multiplies by T instead of dividing", '''def my_annealed_mean(logits, centres, T=0.38):
    probs = torch.softmax(logits * T, dim=1)
    return torch.einsum("nqhw,qc->nchw", probs, centres)
'''),
            ("softmax over the last axis (W) instead of the bins", '''def my_annealed_mean(logits, centres, T=0.38):
    probs = torch.softmax(logits / T, dim=-1)
    return torch.einsum("nqhw,qc->nchw", probs, centres)
'''),
            ("ab divided by 110 (normalised) instead of Lab units", '''def my_annealed_mean(logits, centres, T=0.38):
    probs = torch.softmax(logits / T, dim=1)
    return torch.einsum("nqhw,qc->nchw", probs, centres) / 110
'''),
            ("the mode (arg-max bin) instead of the annealed mean", '''def my_annealed_mean(logits, centres, T=0.38):
    return centres[logits.argmax(1)].permute(0, 3, 1, 2)
'''),
        ],
    },
    "rebalanced_cross_entropy": {
        "right": [
            # PyTorch's cross-entropy accepts class probabilities as the target
            '''import torch.nn.functional as F

def my_rebalanced_ce(logits, z, v):
    ce = F.cross_entropy(logits, z, reduction="none")       # (N, H, W)
    return (v * ce).mean()
''',
            # log-sum-exp by hand, normalised by the pixel count
            '''def my_rebalanced_ce(logits, z, v):
    logp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    per_pixel = -(z * logp).sum(dim=1)
    n, _, h, w = logits.shape
    return (v * per_pixel).sum() / (n * h * w)
''',
            # pixels as rows of a matrix
            '''def my_rebalanced_ce(logits, z, v):
    q = logits.shape[1]
    lg = logits.permute(0, 2, 3, 1).reshape(-1, q)
    zz = z.permute(0, 2, 3, 1).reshape(-1, q)
    ce = -(zz * torch.log_softmax(lg, dim=1)).sum(1)
    return (v.reshape(-1) * ce).mean()
''',
        ],
        "wrong": [
            ("softmax over the last axis (W) instead of the Q bins", '''def my_rebalanced_ce(logits, z, v):
    logp = torch.log_softmax(logits, dim=-1)
    return -(v * (z * logp).sum(1)).mean()
'''),
            ("sums over the pixels: not normalised by the pixel count", '''def my_rebalanced_ce(logits, z, v):
    logp = torch.log_softmax(logits, dim=1)
    return -(v * (z * logp).sum(1)).sum()
'''),
            ("divides by the sum of the weights instead of the pixel count", '''def my_rebalanced_ce(logits, z, v):
    logp = torch.log_softmax(logits, dim=1)
    return -(v * (z * logp).sum(1)).sum() / v.sum()
'''),
            ("forgets the rarity weights", '''def my_rebalanced_ce(logits, z, v):
    logp = torch.log_softmax(logits, dim=1)
    return -((z * logp).sum(1)).mean()
'''),
            ("the log of the raw logits, no softmax", '''def my_rebalanced_ce(logits, z, v):
    return -(v * (z * torch.log(logits.abs() + 1e-8)).sum(1)).mean()
'''),
        ],
    },
    "soft_encode": {
        "right": [
            # a full distance matrix per pixel, topk, scatter
            '''def my_soft_encode(ab, centres, k=5, sigma=5.0):
    n, _, h, w = ab.shape
    pts = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    d2 = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    d2k, idx = d2.topk(k, dim=1, largest=False)
    wk = torch.exp(-d2k / (2 * sigma ** 2))
    wk = wk / wk.sum(1, keepdim=True)
    out = torch.zeros(pts.shape[0], centres.shape[0]).scatter_(1, idx, wk)
    return out.view(n, h, w, -1).permute(0, 3, 1, 2)
''',
            # a loop over pixels with argsort, in float64
            '''def my_soft_encode(ab, centres, k=5, sigma=5.0):
    n, _, h, w = ab.shape
    c = centres.double()
    out = torch.zeros(n, c.shape[0], h, w, dtype=torch.float64)
    for i in range(n):
        for y in range(h):
            for x in range(w):
                d2 = ((c - ab[i, :, y, x].double()) ** 2).sum(1)
                near = torch.argsort(d2)[:k]
                wts = torch.exp(-d2[near] / (2 * sigma ** 2))
                out[i, near, y, x] = wts / wts.sum()
    return out
''',
            # cdist and a softmax of −d²/2σ² over the k nearest (the same normalised Gaussian)
            '''def my_soft_encode(ab, centres, k=5, sigma=5.0):
    n, _, h, w = ab.shape
    pts = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    d = torch.cdist(pts, centres, compute_mode="donot_use_mm_for_euclid_dist")
    dk, idx = torch.sort(d, dim=1)
    dk, idx = dk[:, :k], idx[:, :k]
    wk = torch.softmax(-dk ** 2 / (2 * sigma ** 2), dim=1)
    out = torch.zeros(pts.shape[0], centres.shape[0])
    out[torch.arange(pts.shape[0])[:, None], idx] = wk
    return out.reshape(n, h, w, -1).permute(0, 3, 1, 2)
''',
        ],
        "wrong": [
            ("unnormalised Gaussian weights", '''def my_soft_encode(ab, centres, k=5, sigma=5.0):
    n, _, h, w = ab.shape
    pts = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    d2 = torch.cdist(pts, centres) ** 2
    d2k, idx = d2.topk(k, dim=1, largest=False)
    wk = torch.exp(-d2k / (2 * sigma ** 2))
    out = torch.zeros(pts.shape[0], centres.shape[0]).scatter_(1, idx, wk)
    return out.view(n, h, w, -1).permute(0, 3, 1, 2)
'''),
            ("σ where σ² belongs: exp(−d²/2σ)", '''def my_soft_encode(ab, centres, k=5, sigma=5.0):
    n, _, h, w = ab.shape
    pts = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    d2 = torch.cdist(pts, centres) ** 2
    d2k, idx = d2.topk(k, dim=1, largest=False)
    wk = torch.exp(-d2k / (2 * sigma))
    wk = wk / wk.sum(1, keepdim=True)
    out = torch.zeros(pts.shape[0], centres.shape[0]).scatter_(1, idx, wk)
    return out.view(n, h, w, -1).permute(0, 3, 1, 2)
'''),
            ("the distance d instead of d² in the Gaussian", '''def my_soft_encode(ab, centres, k=5, sigma=5.0):
    n, _, h, w = ab.shape
    pts = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    d = torch.cdist(pts, centres)
    dk, idx = d.topk(k, dim=1, largest=False)
    wk = torch.softmax(-dk / (2 * sigma ** 2), dim=1)
    out = torch.zeros(pts.shape[0], centres.shape[0]).scatter_(1, idx, wk)
    return out.view(n, h, w, -1).permute(0, 3, 1, 2)
'''),
            ("the k farthest bins (topk's default is the largest)", '''def my_soft_encode(ab, centres, k=5, sigma=5.0):
    n, _, h, w = ab.shape
    pts = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    d2 = torch.cdist(pts, centres) ** 2
    d2k, idx = d2.topk(k, dim=1)
    wk = torch.softmax(-d2k / (2 * sigma ** 2), dim=1)
    out = torch.zeros(pts.shape[0], centres.shape[0]).scatter_(1, idx, wk)
    return out.view(n, h, w, -1).permute(0, 3, 1, 2)
'''),
            ("pixels reshaped without moving the channel axis last (a transpose missing)", '''def my_soft_encode(ab, centres, k=5, sigma=5.0):
    n, _, h, w = ab.shape
    pts = ab.reshape(-1, 2)
    d2 = torch.cdist(pts, centres) ** 2
    d2k, idx = d2.topk(k, dim=1, largest=False)
    wk = torch.softmax(-d2k / (2 * sigma ** 2), dim=1)
    out = torch.zeros(pts.shape[0], centres.shape[0]).scatter_(1, idx, wk)
    return out.view(n, h, w, -1).permute(0, 3, 1, 2)
'''),
        ],
    },
    "train_step": {
        "right": [
            # soft targets written out, the rarity weight of each pixel's nearest bin, a hand-written update
            """def my_train_step(model, L, ab, centres, w, lr):
    d2 = (ab.permute(0, 2, 3, 1)[..., None, :] - centres).square().sum(-1)      # (N, H, W, Q)
    near, idx = d2.topk(5, dim=-1, largest=False)
    z = torch.zeros_like(d2).scatter_(-1, idx, torch.softmax(-near / 50.0, dim=-1)).permute(0, 3, 1, 2)
    v = w[idx[..., 0]]
    loss = -(v * (z * torch.log_softmax(model(L), dim=1)).sum(1)).mean()
    for p in model.parameters():
        p.grad = None
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    return loss.item()
""",
            # one-hot targets on the nearest bin, PyTorch's weighted cross-entropy (it divides by Σ v), an SGD optimizer
            """import torch.nn.functional as F

def my_train_step(model, L, ab, centres, w, lr):
    nearest = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), centres).argmin(1).view(ab.shape[0], *ab.shape[2:])
    loss = F.cross_entropy(model(L), nearest, weight=w)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.detach())
""",
            # the kit's soft-encoding, torch.autograd.grad (never reads .grad)
            """from colorlab.rarity.soft_encoding import soft_encode

def my_train_step(model, L, ab, centres, w, lr):
    z = soft_encode(ab, centres, k=5, sigma=5.0)
    per_pixel = -(z * torch.log_softmax(model(L), dim=1)).sum(1)
    loss = (w[z.argmax(1)] * per_pixel).mean()
    params = list(model.parameters())
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.sub_(lr * g)
    return float(loss.detach())
""",
        ],
        "wrong": [
            ("no rarity weights: the plain soft cross-entropy", """def my_train_step(model, L, ab, centres, w, lr):
    d2 = (ab.permute(0, 2, 3, 1)[..., None, :] - centres).square().sum(-1)
    near, idx = d2.topk(5, dim=-1, largest=False)
    z = torch.zeros_like(d2).scatter_(-1, idx, torch.softmax(-near / 50.0, dim=-1)).permute(0, 3, 1, 2)
    loss = -(z * torch.log_softmax(model(L), dim=1)).sum(1).mean()
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    return loss.item()
"""),
            ("ab divided by 110 before encoding (centres are in Lab units)", """from colorlab.rarity.soft_encoding import soft_encode

def my_train_step(model, L, ab, centres, w, lr):
    z = soft_encode(ab / 110, centres)
    loss = (w[z.argmax(1)] * -(z * torch.log_softmax(model(L), dim=1)).sum(1)).mean()
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    return loss.item()
"""),
            ("never clears the gradients: each step adds up every earlier step's", """from colorlab.rarity.soft_encoding import soft_encode

def my_train_step(model, L, ab, centres, w, lr):
    z = soft_encode(ab, centres)
    loss = (w[z.argmax(1)] * -(z * torch.log_softmax(model(L), dim=1)).sum(1)).mean()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    return loss.item()
"""),
            ("steps up the gradient (+ instead of −)", """from colorlab.rarity.soft_encoding import soft_encode

def my_train_step(model, L, ab, centres, w, lr):
    z = soft_encode(ab, centres)
    loss = (w[z.argmax(1)] * -(z * torch.log_softmax(model(L), dim=1)).sum(1)).mean()
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p += lr * p.grad
    return loss.item()
"""),
        ],
    },
}
