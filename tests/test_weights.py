"""Pretrained weights through the real download path, served by a loopback server (fake files with
the real names and the right shapes, generated here); only the expected sha256 is the fake's own."""
from __future__ import annotations

import hashlib
import io
import warnings

import numpy as np
import pytest
import torch
import torchvision

from colorlab.core import weights
from colorlab.core.checkpoint import save_checkpoint
from colorlab.core.download import DownloadError
from colorlab.core.errors import ColorlabError
from colorlab.evaluation import metrics
from colorlab.models import create
from colorlab.models.backbones import pretrained_weights_file, weights_name
from colorlab.models.checkpoint import load_checkpoint


def _blob(state: dict) -> bytes:
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def _serve_weights(monkeypatch, server, url: str, state: dict) -> bytes:
    """Serve ``state`` as the published file of ``url``; trust the fake's sha256."""
    blob = _blob(state)
    name = url.rsplit("/", 1)[-1]
    server.files[name] = blob
    monkeypatch.setitem(weights.TRUSTED_SHA256, name, hashlib.sha256(blob).hexdigest())
    return blob


def _random_state(name: str, seed: int = 1) -> dict:
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return torchvision.models.get_model(name, weights=None).state_dict()


@pytest.fixture(autouse=True)
def _own_torch_hub(tmp_path, monkeypatch):
    """Each test gets its own torch hub cache: the fake weights must not outlive it (other tests
    would then find "LPIPS/FID weights on this machine")."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


@pytest.fixture(scope="module")
def inception_state():
    return _random_state("inception_v3")


def test_pretrained_modes():
    assert [weights.pretrained_mode(v) for v in (True, False, None, "true", "False", "download", "disk", "none")] == [
        "download", "none", "none", "download", "none", "download", "disk", "none"]
    with pytest.raises(ColorlabError, match="pretrained must be"):
        weights.pretrained_mode("maybe")


def test_fusion_downloads_served_inception_weights_records_them_and_scales_input(served, monkeypatch, tmp_path,
                                                                                 inception_state, capsys):
    url = torchvision.models.get_model_weights("inception_v3").DEFAULT.url
    _serve_weights(monkeypatch, served, url, inception_state)
    model = create("fusion", backbone="inception_v3", pretrained="download", backbone_size=75, encoder_out=16,
                   fusion_channels=8)
    assert [p for p, _ in served.requests] == ["/" + url.rsplit("/", 1)[-1]]
    assert pretrained_weights_file("inception_v3").is_file()  # in the torch hub cache, where torchvision looks
    cfg = model.config
    assert cfg["pretrained"] == "download" and cfg["pretrained_loaded"] is True
    assert cfg["pretrained_weights"] == weights_name("inception_v3") == "Inception_V3_Weights.IMAGENET1K_V1"
    backbone = model.global_features.backbone
    torch.testing.assert_close(backbone.state_dict()["Conv2d_1a_3x3.conv.weight"],
                               inception_state["Conv2d_1a_3x3.conv.weight"])
    assert "ImageNet weights Inception_V3_Weights.IMAGENET1K_V1 loaded" in capsys.readouterr().err
    # frozen (loaded weights + freeze_backbone="auto") and Inception's own input scaling:
    # its first conv sees the gray photo in [-1, 1], not ImageNet mean/std normalised values
    assert backbone.transform_input and not any(p.requires_grad for p in backbone.parameters())
    seen = {}
    backbone.Conv2d_1a_3x3.register_forward_pre_hook(lambda m, inp: seen.update(x=inp[0].detach()))
    L = torch.linspace(-1, 1, 16 * 16).reshape(1, 1, 16, 16)
    model.eval()(L)
    expected = torch.nn.functional.interpolate(L, size=(75, 75), mode="bilinear", align_corners=False)
    for c in range(3):
        torch.testing.assert_close(seen["x"][:, c:c + 1], expected, atol=1e-5, rtol=0)
    # the checkpoint keeps it: rebuilt without downloading, same transform and freezing
    path = save_checkpoint(tmp_path / "fusion.pt", model, {"model": model.config})
    n = len(served.requests)
    again, cfg2 = load_checkpoint(path)
    assert len(served.requests) == n and cfg2["model"]["pretrained_loaded"] is True
    assert again.global_features.backbone.transform_input and again.global_features.frozen


def test_fusion_without_weights_trains_its_global_branch():
    torch.manual_seed(0)
    model = create("fusion", backbone="resnet18", pretrained="none", backbone_size=32, encoder_out=16,
                   fusion_channels=8).train()
    assert model.config["pretrained_loaded"] is False and not model.global_features.frozen
    before = {k: v.clone() for k, v in model.global_features.backbone.state_dict().items() if v.is_floating_point()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.rand(4, 1, 16, 16) * 2 - 1
    loss = (model(x) - 0.5).pow(2).mean()
    loss.backward()
    opt.step()
    changed = [k for k, v in model.global_features.backbone.state_dict().items()
               if k in before and not torch.equal(v, before[k])]
    assert "conv1.weight" in changed and "fc.weight" in changed


def test_offline_never_downloads_and_says_so(served, monkeypatch):
    monkeypatch.setenv("COLORLAB_OFFLINE", "1")
    with pytest.warns(UserWarning, match="not found at .*COLORLAB_OFFLINE.*random init"):
        model = create("fusion", backbone="resnet18", pretrained="download", backbone_size=32, encoder_out=16,
                       fusion_channels=8)
    assert served.requests == [] and model.config["pretrained_loaded"] is False
    assert not model.global_features.frozen


def test_download_falls_back_to_disk_when_the_network_is_down(monkeypatch):
    monkeypatch.delenv("COLORLAB_OFFLINE", raising=False)
    monkeypatch.setenv("COLORLAB_MIRROR", "http://127.0.0.1:9")  # nothing listens: connection refused
    with pytest.warns(UserWarning) as record:
        model = create("fpn", backbone="mobilenet_v3_small", pretrained=True, width=8, levels=3)
    text = " | ".join(str(w.message) for w in record)
    assert "cannot reach http://127.0.0.1:9/" in text and "random init" in text
    assert model.config["pretrained"] == "download" and model.config["pretrained_loaded"] is False


def test_served_weights_with_a_wrong_hash_are_refused(served, monkeypatch):
    url = torchvision.models.get_model_weights("resnet18").DEFAULT.url
    _serve_weights(monkeypatch, served, url, _random_state("resnet18"))
    monkeypatch.setitem(weights.TRUSTED_SHA256, url.rsplit("/", 1)[-1], "0" * 64)
    with pytest.raises(DownloadError, match="checksum mismatch") as e:
        create("fusion", backbone="resnet18", pretrained="download", backbone_size=32, encoder_out=16,
               fusion_channels=8)
    assert served.url in str(e.value)
    assert not pretrained_weights_file("resnet18").exists()
    assert not list(pretrained_weights_file("resnet18").parent.glob("resnet18*"))
    # the hash in the file name (torch hub's convention) is what is checked by default
    monkeypatch.delitem(weights.TRUSTED_SHA256, url.rsplit("/", 1)[-1])
    assert weights.weights_remote(url).sha256 == "f37072fd"
    with pytest.raises(DownloadError, match="checksum mismatch"):
        create("fusion", backbone="resnet18", pretrained="download", backbone_size=32, encoder_out=16,
               fusion_channels=8)


def test_old_checkpoints_still_load(tmp_path):
    """A checkpoint saved before these options (pretrained: true, no freeze/record keys)."""
    torch.manual_seed(0)
    model = create("fusion", backbone="resnet18", pretrained=False, backbone_size=32, encoder_out=16,
                   fusion_channels=8)
    old = {k: v for k, v in model.config.items() if k not in ("freeze_backbone", "pretrained_loaded",
                                                             "pretrained_weights")}
    old["pretrained"] = True
    path = save_checkpoint(tmp_path / "old.pt", model, {"model": old})
    again, _ = load_checkpoint(path)
    assert again.global_features.frozen  # as it was when it was trained
    x = torch.rand(1, 1, 16, 16)
    torch.testing.assert_close(again(x), model.eval()(x))


# ------------------------------------------------------------------ LPIPS and FID with served weights
def test_lpips_and_fid_with_served_weights_fill_the_evaluation_table(served, monkeypatch):
    """Fake AlexNet (LPIPS; its ``features``, all LPIPS uses) and FID-Inception weights of the
    right shapes, served under the real file names."""
    from pytorch_fid.inception import _inception_v3

    from colorlab.evaluation.evaluate import evaluate
    monkeypatch.setattr(metrics, "_NETS", {})
    alexnet = {k: v for k, v in _random_state("alexnet").items() if k.startswith("features.")}
    _serve_weights(monkeypatch, served, metrics.ALEXNET_URL, alexnet)
    torch.manual_seed(2)
    _serve_weights(monkeypatch, served, metrics.FID_WEIGHTS_URL,
                   _inception_v3(num_classes=1008, aux_logits=False, weights=None).state_dict())

    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 3, 32, 32, generator=g)
    y = (x + 0.5 * torch.rand(3, 3, 32, 32, generator=g)).clamp(0, 1)
    assert metrics.lpips_available() == (True, "") and metrics.fid_available() == (True, "")
    same = metrics.lpips_distance(x, x)
    assert same.shape == (3,) and float(same.abs().max()) == 0.0
    assert (metrics.lpips_distance(x, y) > 0).all()
    fx, fy = metrics.fid_features(x), metrics.fid_features(y)
    assert fx.shape == (3, 2048)
    fid_xy = metrics.frechet_distance(fx, fy)
    assert fid_xy > 0 and abs(metrics.frechet_distance(fx, fx)) <= 1e-6 * fid_xy
    assert sorted(p for p, _ in served.requests) == ["/alexnet-owt-7be5be79.pth",
                                                     "/pt_inception-2015-12-05-6726825d.pth"]

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    torch.manual_seed(0)
    df = evaluate({"unet": create("unet", base=4, depth=2)}, images, device="cpu", progress=False)
    assert np.isfinite(df["LPIPS"]).all() and np.isfinite(df["FID"]).all()
    assert df.attrs["notes"]["LPIPS"] == "AlexNet LPIPS" and "Fréchet" in df.attrs["notes"]["FID"]
    assert len(served.requests) == 2  # fetched once, then read from the torch hub cache


def test_offline_cluster_takes_weights_from_a_local_mirror_folder(tmp_path, monkeypatch):
    """COLORLAB_OFFLINE=1 with COLORLAB_MIRROR=<folder>: copied (and checked) from the folder, no network."""
    from colorlab.models.backbones import load_backbone
    url = torchvision.models.get_model_weights("mobilenet_v3_small").DEFAULT.url
    state = _random_state("mobilenet_v3_small", seed=3)
    blob = _blob(state)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / url.rsplit("/", 1)[-1]).write_bytes(blob)
    monkeypatch.setitem(weights.TRUSTED_SHA256, url.rsplit("/", 1)[-1], hashlib.sha256(blob).hexdigest())
    monkeypatch.setenv("COLORLAB_MIRROR", str(mirror))
    monkeypatch.setenv("COLORLAB_OFFLINE", "1")
    model, info = load_backbone("mobilenet_v3_small", pretrained="download", progress=False)
    assert info == {"pretrained": "download", "pretrained_loaded": True,
                    "weights": "MobileNet_V3_Small_Weights.IMAGENET1K_V1"}
    torch.testing.assert_close(model.state_dict()["features.0.0.weight"], state["features.0.0.weight"])
    assert pretrained_weights_file("mobilenet_v3_small").is_file()
    # "disk" never copies from the mirror: only what is in the torch hub cache counts
    pretrained_weights_file("mobilenet_v3_small").unlink()
    with pytest.warns(UserWarning, match="not found at"):
        _, info = load_backbone("mobilenet_v3_small", pretrained="disk")
    assert info["pretrained_loaded"] is False
