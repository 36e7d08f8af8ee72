"""Right and wrong answers to the exercises of lab 09 (user hints), run by tests/test_exercise_answers.py."""

ANSWERS = {
    "hint_channels": {
        "right": [
            # a boolean mask from row and column indices, times the three values
            '''def hint_channels(height, width, top, left, size, ab):
    rows = torch.arange(height).view(-1, 1)
    cols = torch.arange(width).view(1, -1)
    mask = ((rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)).float()
    values = torch.tensor([ab[0] / 110, ab[1] / 110, 1.0]).view(3, 1, 1)
    return values * mask
''',
            # pixel by pixel, staying inside the image
            '''def hint_channels(height, width, top, left, size, ab):
    out = torch.zeros(3, height, width)
    for y in range(top, min(top + size, height)):
        for x in range(left, min(left + size, width)):
            out[:, y, x] = torch.tensor([ab[0] / 110, ab[1] / 110, 1.0])
    return out
''',
            # built in NumPy, handed back as a torch tensor
            '''def hint_channels(height, width, top, left, size, ab):
    out = np.zeros((3, height, width), dtype=np.float32)
    out[:2, top:top + size, left:left + size] = np.asarray(ab, dtype=np.float32).reshape(2, 1, 1) / 110
    out[2, top:top + size, left:left + size] = 1
    return torch.from_numpy(out)
''',
        ],
        "wrong": [
            ("forgets the / 110 scaling", '''def hint_channels(height, width, top, left, size, ab):
    out = torch.zeros(3, height, width)
    out[0, top:top + size, left:left + size] = ab[0]
    out[1, top:top + size, left:left + size] = ab[1]
    out[2, top:top + size, left:left + size] = 1
    return out
'''),
            ("(row, col) swapped: top used as a column, left as a row", '''def hint_channels(height, width, top, left, size, ab):
    out = torch.zeros(3, height, width)
    out[0, left:left + size, top:top + size] = ab[0] / 110
    out[1, left:left + size, top:top + size] = ab[1] / 110
    out[2, left:left + size, top:top + size] = 1
    return out
'''),
            ("the mask is 1 everywhere, not only inside the patch", '''def hint_channels(height, width, top, left, size, ab):
    out = torch.zeros(3, height, width)
    out[0, top:top + size, left:left + size] = ab[0] / 110
    out[1, top:top + size, left:left + size] = ab[1] / 110
    out[2] = 1
    return out
'''),
            ("a and b in the wrong channels", '''def hint_channels(height, width, top, left, size, ab):
    out = torch.zeros(3, height, width)
    out[0, top:top + size, left:left + size] = ab[1] / 110
    out[1, top:top + size, left:left + size] = ab[0] / 110
    out[2, top:top + size, left:left + size] = 1
    return out
'''),
            ("returns a NumPy array, not the torch tensor the contract asks for", '''def hint_channels(height, width, top, left, size, ab):
    out = np.zeros((3, height, width), dtype=np.float32)
    out[:2, top:top + size, left:left + size] = np.asarray(ab, dtype=np.float32).reshape(2, 1, 1) / 110
    out[2, top:top + size, left:left + size] = 1
    return out
'''),
        ],
    },
    "encode_patch_hints": {
        "right": [
            # a boolean mask per hint
            '''def encode_patch_hints(ab, tops, lefts, sizes):
    _, H, W = ab.shape
    out = torch.zeros(3, H, W)
    rows = torch.arange(H).view(H, 1)
    cols = torch.arange(W).view(1, W)
    for t, l, s in zip(tops, lefts, sizes):
        inside = (rows >= t) & (rows < t + s) & (cols >= l) & (cols < l + s)
        mean = ab[:, inside].mean(dim=1)
        out[0][inside] = mean[0]
        out[1][inside] = mean[1]
        out[2][inside] = 1
    return out
''',
            # NumPy, one channel at a time, back to torch at the end
            '''def encode_patch_hints(ab, tops, lefts, sizes):
    a = np.asarray(ab)
    out = np.zeros((3,) + a.shape[1:], dtype=np.float32)
    for t, l, s in zip(tops, lefts, sizes):
        patch = a[:, t:t + s, l:l + s]
        out[0, t:t + s, l:l + s] = patch[0].mean()
        out[1, t:t + s, l:l + s] = patch[1].mean()
        out[2, t:t + s, l:l + s] = 1
    return torch.from_numpy(out)
''',
            # the means by hand, the painting by the kit's paint_patches
            '''def encode_patch_hints(ab, tops, lefts, sizes):
    from colorlab.hints.encoding import paint_patches
    H, W = ab.shape[1:]
    colours = torch.stack([ab[:, t:t + s, l:l + s].mean((1, 2)) for t, l, s in zip(tops, lefts, sizes)])
    t, l, s = torch.tensor([tops]), torch.tensor([lefts]), torch.tensor([sizes])
    return paint_patches(t, l, s, colours[None], torch.ones_like(t, dtype=torch.bool), H, W)[0]
''',
            # last hint first, never painting over a pixel already taken: the same "later wins"
            '''def encode_patch_hints(ab, tops, lefts, sizes):
    _, H, W = ab.shape
    out = torch.zeros(3, H, W)
    for t, l, s in reversed(list(zip(tops, lefts, sizes))):
        colour = ab[:, t:t + s, l:l + s].mean(dim=(1, 2)).view(2, 1, 1)
        free = out[2:3, t:t + s, l:l + s] == 0
        out[:2, t:t + s, l:l + s] = torch.where(free, colour, out[:2, t:t + s, l:l + s])
        out[2, t:t + s, l:l + s] = 1
    return out
''',
        ],
        "wrong": [
            ("(row, col) swapped: tops index columns, lefts rows", '''def encode_patch_hints(ab, tops, lefts, sizes):
    _, H, W = ab.shape
    out = torch.zeros(3, H, W)
    for top, left, size in zip(tops, lefts, sizes):
        rows, cols = slice(left, left + size), slice(top, top + size)
        colour = ab[:, rows, cols].mean(dim=(1, 2))
        out[:2, rows, cols] = colour.view(2, 1, 1)
        out[2, rows, cols] = 1
    return out
'''),
            ("mean over the wrong axis: over a and b (dim 0) instead of over the patch's pixels", '''def encode_patch_hints(ab, tops, lefts, sizes):
    _, H, W = ab.shape
    out = torch.zeros(3, H, W)
    for top, left, size in zip(tops, lefts, sizes):
        rows, cols = slice(top, top + size), slice(left, left + size)
        colour = ab[:, rows, cols].mean(dim=0)
        out[:2, rows, cols] = colour
        out[2, rows, cols] = 1
    return out
'''),
            ("copies the true ab of every pixel instead of one mean colour per hint", '''def encode_patch_hints(ab, tops, lefts, sizes):
    _, H, W = ab.shape
    out = torch.zeros(3, H, W)
    for top, left, size in zip(tops, lefts, sizes):
        rows, cols = slice(top, top + size), slice(left, left + size)
        out[:2, rows, cols] = ab[:, rows, cols]
        out[2, rows, cols] = 1
    return out
'''),
            ("earlier hints win where patches overlap (painted in reverse order)", '''def encode_patch_hints(ab, tops, lefts, sizes):
    _, H, W = ab.shape
    out = torch.zeros(3, H, W)
    for top, left, size in reversed(list(zip(tops, lefts, sizes))):
        rows, cols = slice(top, top + size), slice(left, left + size)
        out[:2, rows, cols] = ab[:, rows, cols].mean(dim=(1, 2)).view(2, 1, 1)
        out[2, rows, cols] = 1
    return out
'''),
            ("the mean colour of the whole image, not of the patch", '''def encode_patch_hints(ab, tops, lefts, sizes):
    _, H, W = ab.shape
    out = torch.zeros(3, H, W)
    for top, left, size in zip(tops, lefts, sizes):
        rows, cols = slice(top, top + size), slice(left, left + size)
        out[:2, rows, cols] = ab.mean(dim=(1, 2)).view(2, 1, 1)
        out[2, rows, cols] = 1
    return out
'''),
        ],
    },
    "hint_patch_size": {
        "right": [
            # half the fruit, less the click error, never below 3 pixels (a 3 × 3 patch averages 9 pixels)
            '''def hint_patch_size(diameter, click_error):
    return max(3, diameter // 2 - click_error)
''',
            # the square inscribed in the disc (side d/√2), shrunk by the click error on both sides, at least 3
            '''def hint_patch_size(diameter, click_error):
    return max(3, int(diameter / 2 ** 0.5) - 2 * click_error)
''',
            # 60 % of the fruit, less the click error on both sides
            '''def hint_patch_size(diameter, click_error):
    return int(max(3, 0.6 * diameter - 2 * click_error))
''',
        ],
        "wrong": [
            ("a single pixel: that pixel's own texture (or the highlight) becomes the hint", '''def hint_patch_size(diameter, click_error):
    return 1
'''),
            ("the whole fruit: the square's corners, and the missed clicks, bring in the grass", '''def hint_patch_size(diameter, click_error):
    return diameter
'''),
            ("the sampler's largest side, whatever the fruit: too large for small fruit", '''def hint_patch_size(diameter, click_error):
    return min(9, diameter)
'''),
            ("allows for the click but not for the round fruit: the square's corners stick out (subtle)", '''def hint_patch_size(diameter, click_error):
    return max(1, diameter - 2 * click_error)
'''),
        ],
    },
}
