"""Right and wrong answers to lab 08's exercises (run by tests/test_exercise_answers.py)."""

ANSWERS = {
    "split_by_group": {
        "right": [
            '''def split_by_group(labels, k):
    parts = [[] for _ in range(k)]
    for i, g in enumerate(labels):
        parts[int(g)].append(i)
    return [np.array(p, dtype=int) for p in parts]
''',
            '''def split_by_group(labels, k):
    return [np.where(labels == g)[0] for g in range(k)]
''',
            # a stable sort, then cut at the group boundaries
            '''def split_by_group(labels, k):
    order = np.argsort(labels, kind="stable")
    bounds = np.cumsum(np.bincount(labels, minlength=k))[:-1]
    return np.split(order, bounds)
''',
        ],
        "wrong": [
            ("groups numbered from 1", '''def split_by_group(labels, k):
    return [np.flatnonzero(labels == g) for g in range(1, k + 1)]
'''),
            ("only the groups that occur: an empty group is dropped", '''def split_by_group(labels, k):
    return [np.flatnonzero(labels == g) for g in np.unique(labels)]
'''),
            ("sorted in reverse: indices within a group in decreasing order", '''def split_by_group(labels, k):
    order = np.argsort(-labels, kind="quicksort")[::-1]
    bounds = np.cumsum(np.bincount(labels, minlength=k))[:-1]
    return np.split(order, bounds)
'''),
            ("the labels of each group instead of its indices", '''def split_by_group(labels, k):
    return [labels[labels == g] for g in range(k)]
'''),
        ],
    },
    "routed_forward": {
        "right": [
            # a boolean mask per group
            """def routed_forward(L, classifier, colorizers):
    g = classifier(L).argmax(dim=1)
    out = torch.zeros(L.shape[0], 2, *L.shape[-2:])
    for k, model in enumerate(colorizers):
        mask = g == k
        if mask.any():
            out[mask] = model(L[mask])
    return out
""",
            # concatenate per group, then undo the permutation
            """def routed_forward(L, classifier, colorizers):
    g = classifier(L).argmax(dim=1)
    order = torch.argsort(g, stable=True)
    parts = [colorizers[k](L[g == k]) for k in range(len(colorizers)) if (g == k).any()]
    out = torch.empty_like(torch.cat(parts))
    out[order] = torch.cat(parts)
    return out
""",
            # the groups as index lists, index_copy_ back into place
            """def routed_forward(L, classifier, colorizers):
    g = classifier(L).argmax(dim=1).tolist()
    out = None
    for k, model in enumerate(colorizers):
        idx = torch.tensor([i for i, gi in enumerate(g) if gi == k], dtype=torch.long)
        if len(idx) == 0:
            continue
        ab = model(L.index_select(0, idx))
        if out is None:
            out = ab.new_zeros(L.shape[0], *ab.shape[1:])
        out.index_copy_(0, idx, ab)
    return out
""",
        ],
        "wrong": [
            ("argmax over the batch axis", """def routed_forward(L, classifier, colorizers):
    g = classifier(L).argmax(dim=0)
    out = torch.zeros(L.shape[0], 2, *L.shape[-2:])
    for k, model in enumerate(colorizers):
        sel = g == k
        if sel.any():
            out[sel] = model(L[sel])
    return out
"""),
            ("per-group outputs concatenated without restoring the batch order", """def routed_forward(L, classifier, colorizers):
    g = classifier(L).argmax(dim=1)
    parts = [colorizers[k](L[g == k]) for k in range(len(colorizers)) if (g == k).any()]
    return torch.cat(parts)
"""),
            ("the whole batch routed by its first image's group", """def routed_forward(L, classifier, colorizers):
    g = classifier(L).argmax(dim=1)
    return colorizers[int(g[0])](L)
"""),
            ("the least likely group (argmin)", """def routed_forward(L, classifier, colorizers):
    g = classifier(L).argmin(dim=1)
    out = torch.zeros(L.shape[0], 2, *L.shape[-2:])
    for k, model in enumerate(colorizers):
        sel = (g == k).nonzero().squeeze(1)
        if len(sel):
            out[sel] = model(L[sel])
    return out
"""),
            # right pictures, but every colorizer sees every image: K times the work, other groups' BatchNorm statistics
            ("every colorizer on the whole batch, then each image's row picked", """def routed_forward(L, classifier, colorizers):
    g = classifier(L).argmax(dim=1)
    every = torch.stack([m(L) for m in colorizers])
    return every[g, torch.arange(L.shape[0])]
"""),
            ("one image at a time: a colorizer runs once per image, not once per group", """def routed_forward(L, classifier, colorizers):
    g = classifier(L).argmax(dim=1).tolist()
    return torch.cat([colorizers[k](L[i:i + 1]) for i, k in enumerate(g)])
"""),
        ],
    },
}
