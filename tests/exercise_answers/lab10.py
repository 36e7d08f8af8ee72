"""Right and wrong answers to the exercises of lab 10 (evaluation), run by tests/test_exercise_answers.py."""

ANSWERS = {
    "my_psnr": {
        "right": [
            # torch's MSE without reduction, then the mean per image
            '''def my_psnr(pred, target):
    mse = torch.nn.functional.mse_loss(pred, target, reduction="none").mean(dim=(1, 2, 3))
    return -10 * torch.log10(mse)
''',
            # one image at a time, with the root mean square error: 20·log10(1/RMSE) = 10·log10(1/MSE)
            '''def my_psnr(pred, target):
    out = []
    for p, t in zip(pred, target):
        rmse = ((p - t) ** 2).mean().sqrt()
        out.append(20 * torch.log10(1 / rmse))
    return torch.stack(out)
''',
            # computed in NumPy, handed back as a torch tensor
            '''def my_psnr(pred, target):
    d = (pred.numpy() - target.numpy()).reshape(len(pred), -1)
    return torch.from_numpy(10 * np.log10(1.0 / (d ** 2).mean(axis=1)))
''',
        ],
        "wrong": [
            ("one MSE over the whole batch, repeated for every image", '''def my_psnr(pred, target):
    mse = (pred - target).square().mean()
    return (10 * torch.log10(1.0 / mse)).expand(pred.shape[0])
'''),
            ("20·log10 of 1/MSE (the factor for amplitudes, not for squared errors)", '''def my_psnr(pred, target):
    mse = (pred - target).square().flatten(1).mean(1)
    return 20 * torch.log10(1.0 / mse)
'''),
            ("the mean of the three channels' PSNRs instead of the PSNR of the mean squared error", '''def my_psnr(pred, target):
    mse = (pred - target).square().mean(dim=(2, 3))
    return (10 * torch.log10(1.0 / mse)).mean(dim=1)
'''),
            ("the absolute error (MAE) instead of the squared error", '''def my_psnr(pred, target):
    mae = (pred - target).abs().flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mae)
'''),
            ("computed in NumPy and returned as an array, not the torch tensor the contract asks for", '''def my_psnr(pred, target):
    d = (pred.numpy() - target.numpy()).reshape(len(pred), -1)
    return 10 * np.log10(1.0 / (d ** 2).mean(axis=1))
'''),
        ],
    },
    "fooled_rate": {
        "right": [
            # scipy's binomial test gives the same interval
            '''def fooled_rate(fooled):
    from scipy.stats import binomtest
    k, n = int(sum(fooled)), len(fooled)
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return k / n, ci.low, ci.high
''',
            # the two roots of (p̂ − π)² = z² π (1 − π) / n, written out
            '''def fooled_rate(fooled):
    import math
    z = 1.959964
    n = len(fooled)
    p = sum(1 for f in fooled if f) / n
    root = z * math.sqrt(z * z + 4 * n * p * (1 - p))
    low = (2 * n * p + z * z - root) / (2 * (n + z * z))
    high = (2 * n * p + z * z + root) / (2 * (n + z * z))
    return p, low, high
''',
            # NumPy arrays, z from the normal distribution
            '''def fooled_rate(fooled):
    from scipy.stats import norm
    f = np.asarray(fooled, dtype=float)
    n, p = f.size, f.mean()
    z = norm.ppf(0.975)
    centre = (p + z ** 2 / (2 * n)) / (1 + z ** 2 / n)
    half = z / (1 + z ** 2 / n) * np.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2))
    return np.array([p, centre - half, centre + half])
''',
        ],
        "wrong": [
            ("the normal (Wald) interval p̂ ± z·sqrt(p̂(1 − p̂)/n), clipped to [0, 1]", '''def fooled_rate(fooled):
    z = 1.959964
    n = len(fooled)
    p = sum(fooled) / n
    half = z * np.sqrt(p * (1 - p) / n)
    return p, max(0.0, p - half), min(1.0, p + half)
'''),
            ("z = 1.645: a 90 % interval, not 95 %", '''def fooled_rate(fooled):
    z = 1.645
    n = len(fooled)
    p = sum(fooled) / n
    centre = (p + z ** 2 / (2 * n)) / (1 + z ** 2 / n)
    half = z / (1 + z ** 2 / n) * np.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2))
    return p, centre - half, centre + half
'''),
            ("forgets the z²/4n² term under the square root", '''def fooled_rate(fooled):
    z = 1.959964
    n = len(fooled)
    p = sum(fooled) / n
    centre = (p + z ** 2 / (2 * n)) / (1 + z ** 2 / n)
    half = z / (1 + z ** 2 / n) * np.sqrt(p * (1 - p) / n)
    return p, centre - half, centre + half
'''),
            ("the share of trials where the real photo was picked (1 − fooled rate)", '''def fooled_rate(fooled):
    z = 1.959964
    n = len(fooled)
    p = sum(1 for f in fooled if not f) / n
    centre = (p + z ** 2 / (2 * n)) / (1 + z ** 2 / n)
    half = z / (1 + z ** 2 / n) * np.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2))
    return p, centre - half, centre + half
'''),
        ],
    },
}
