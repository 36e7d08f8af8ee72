"""The hint painter in a real browser: JupyterLab + headless Chromium (driven by Playwright).

Starts JupyterLab on 127.0.0.1 (random free port, a token, no browser) in a temp copy of
``notebooks/09_user_hints.ipynb`` with small parameters, opens it in Debian's ``chromium``,
runs all cells, clicks on the gray photo and checks that the colorization shown changed, then uploads a
file that is not an image and checks that the error shows in the painter's status line.
A screenshot is saved in the test's ``tmp_path``. The server is always stopped.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "09_user_hints.ipynb"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Debian's chromium is not installed: `make test` installs it "
                    "(apt-get install -y chromium), or install it yourself and re-run")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quick_copy(folder: Path) -> Path:
    """The notebook with the smoke-run values appended to its parameters cell (as papermill would inject them)."""
    from colorlab.course.runner import SMOKE

    quick = {**SMOKE, "out_dir": str(folder / "run"), "photo_size": 256}
    nb = json.loads(NOTEBOOK.read_text())
    for cell in nb["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = src + "\n# smoke run (test_browser)\n" + "".join(f"{k} = {v!r}\n" for k, v in quick.items())
    out = folder / NOTEBOOK.name
    out.write_text(json.dumps(nb))
    return out


def _start_lab(folder: Path, port: int, token: str, home: Path) -> subprocess.Popen:
    env = dict(os.environ, COLORLAB_HOME=str(home / "colorlab"), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"))
    # no "would you like news?" pop-up, and no "select kernel" dialog: start the notebook's own kernel
    lab = home / "settings" / "@jupyterlab"
    for ext, name, value in (("apputils-extension", "notification", {"fetchNews": "false", "checkForUpdates": False}),
                             ("notebook-extension", "tracker", {"autoStartDefaultKernel": True})):
        (lab / ext).mkdir(parents=True, exist_ok=True)
        (lab / ext / f"{name}.jupyterlab-settings").write_text(json.dumps(value))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
           "--allow-root", "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = open(home / "jupyter.log", "w")
    return subprocess.Popen(cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_for_server(proc: subprocess.Popen, port: int, token: str, log: Path, timeout: float = 40) -> None:
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"JupyterLab did not answer on port {port} within {timeout:.0f} s:\n{log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server we started and everything it started (its kernel): its own process group."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_hint_painter_in_a_real_browser(tmp_path):
    chromium = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing: `make test` installs it (pip install playwright)")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _quick_copy(folder)
    port, token = _free_port(), secrets.token_hex(16)
    proc = _start_lab(folder, port, token, tmp_path)
    shot = tmp_path / "hint_painter.png"
    try:
        _wait_for_server(proc, port, token, tmp_path / "jupyter.log")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS,
                                         timeout=30_000)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(30_000)
                page.goto(f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK.name}?token={token}")
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=40_000)
                dialog = page.locator(".jp-Dialog .jp-mod-accept")
                try:  # should not appear (autoStartDefaultKernel), but never let a dialog block the run
                    dialog.wait_for(state="visible", timeout=3_000)
                    dialog.click()
                except Exception:  # noqa: BLE001 - no dialog: fine
                    pass
                page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=40_000)
                page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
                photo = page.locator("img.colorlab-hint-photo")
                photo.wait_for(state="attached", timeout=240_000)  # all cells run first: training included
                photo.scroll_into_view_if_needed()
                result = page.locator("img.colorlab-hint-result")
                status = page.locator(".colorlab-hint-status")
                page.wait_for_function("() => document.querySelector('img.colorlab-hint-result')?.naturalWidth > 0")
                src_before, status_before = result.get_attribute("src"), status.inner_text()
                box = photo.bounding_box()
                # the locator's click scrolls the photo into view right before clicking, and waits until it is
                # still and receives the click (Run All may still scroll the notebook towards the last cells)
                photo.click(position={"x": 0.45 * box["width"], "y": 0.40 * box["height"]})
                page.wait_for_function(
                    "before => document.querySelector('img.colorlab-hint-result').src !== before"
                    " && document.querySelector('.colorlab-hint-status').innerText.includes('1 hint')",
                    arg=src_before, timeout=30_000)
                page.screenshot(path=str(shot), full_page=False)
                assert result.get_attribute("src") != src_before
                assert status.inner_text() != status_before and "1 hint ·" in status.inner_text()
                # a file that is not an image: the upload callback's error shows in the status line
                with page.expect_file_chooser() as chooser:  # the widget's <input type=file> is not in the page
                    page.locator(".jp-Notebook .widget-upload").last.click()
                chooser.value.set_files(files=[{"name": "broken.png", "mimeType": "image/png", "buffer": b"not an image"}])
                page.wait_for_function("() => document.querySelector('.colorlab-hint-status').innerText.includes('⚠')",
                                       timeout=30_000)
                assert "broken.png" in status.inner_text() and "not an image" in status.inner_text()
            except Exception:
                if not shot.exists():
                    try:
                        page.screenshot(path=str(shot))
                    except Exception:  # noqa: BLE001 - best effort while reporting the real failure
                        pass
                print(f"screenshot: {shot}; JupyterLab log: {tmp_path / 'jupyter.log'}")
                raise
            finally:
                browser.close()
    finally:
        _stop(proc)
    assert shot.stat().st_size > 10_000
