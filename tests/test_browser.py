"""Real-browser tests: JupyterLab (and the classic Notebook 7 interface) in headless Chromium.

They start a Jupyter server on 127.0.0.1 with a token, open a notebook, run all cells from the menu, check that no
cell shows an error and that the widgets render, move a slider and check that the picture changes. Screenshots go
to ``.browser-artifacts/`` when a test fails. They need Debian's ``chromium`` (``/usr/bin/chromium``) and
Playwright's Python package (never ``playwright install``); without them they are skipped, saying why.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("AELIB_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / ".browser-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install -y chromium) "
                "to run the browser tests", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A Jupyter server on 127.0.0.1 serving a copy of notebooks/ (JupyterLab saves what it runs), started with
    this environment's Python."""
    tmp = tmp_path_factory.mktemp("jupyter")
    served = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", served, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    port, token = _free_port(), secrets.token_hex(16)
    settings = tmp / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # render every cell (no windowing), so that all outputs are in the page to be checked
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    (tmp / "settings" / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (tmp / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    env = dict(os.environ, JUPYTERLAB_WORKSPACES_DIR=str(tmp / "ws"), JUPYTER_RUNTIME_DIR=str(tmp / "rt"),
               JUPYTER_CONFIG_DIR=str(tmp / "cfg"), JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"))
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--allow-root", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--ServerApp.token={token}", f"--ServerApp.root_dir={served}"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: {(tmp / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
    else:
        proc.terminate()
        raise RuntimeError("jupyter lab did not answer within 60 s")
    yield base, token
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"{request.node.name}.png"
        pg.screenshot(path=str(shot), full_page=True)
        print(f"screenshot saved to {shot}")
    ctx.close()


def run_all(pg, timeout_s=240):
    """Run every cell from the Run menu; cells run in order, so wait until the last code cell has its number."""
    pg.get_by_role("menuitem", name="Run", exact=True).click()
    pg.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    last = pg.locator(".jp-CodeCell .jp-InputPrompt").last
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        text = last.inner_text()
        if any(ch.isdigit() for ch in text) and "*" not in text:
            return
        time.sleep(1)
    raise AssertionError(f"the notebook did not finish within {timeout_s} s")


def assert_no_errors(pg):
    outputs = "\n".join(pg.locator(".jp-OutputArea-output").all_inner_texts())
    assert "Traceback" not in outputs and "Error displaying widget" not in outputs, outputs[-3000:]
    assert pg.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0 or \
        "Error" not in "\n".join(pg.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
                                 .all_inner_texts())


def move_slider_and_check_image(pg, widget_css, image_css="img", keys=3):
    """Focus the first slider handle of a widget, press ArrowRight, and wait for its picture to change."""
    widget = pg.locator(f".{widget_css}").first
    widget.scroll_into_view_if_needed()
    image = widget.locator(image_css).last
    before = image.get_attribute("src")
    handle = widget.locator(".noUi-handle").first
    handle.focus()
    for _ in range(keys):
        handle.press("ArrowRight")
    deadline = time.time() + 15
    while time.time() < deadline:
        if image.get_attribute("src") != before:
            return
        time.sleep(0.2)
    raise AssertionError(f"the picture of .{widget_css} did not change after moving its slider")


def open_lab(pg, base, token, name):
    pg.goto(f"{base}/lab/tree/{name}?token={token}&reset", wait_until="domcontentloaded")
    pg.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    pg.wait_for_selector(".jp-Notebook-ExecutionIndicator, .jp-Toolbar", timeout=60_000)
    time.sleep(2)   # the kernel connects


@pytest.mark.parametrize("name,widget_css,image_css", [
    ("01_what_an_autoencoder_learns.ipynb", "aelib-latent-explorer", "img.aelib-latent-decoded"),
    ("05_denoising_autoencoders.ipynb", "aelib-denoising-explorer", "img"),
    ("06_anomaly_detection.ipynb", "aelib-anomaly-explorer", "img"),
])
def test_jupyterlab_runs_the_notebook_and_the_widget_responds(server, page, name, widget_css, image_css):
    base, token = server
    open_lab(page, base, token, name)
    run_all(page)
    assert_no_errors(page)
    page.wait_for_selector(f".{widget_css} .noUi-handle", timeout=30_000)
    assert page.locator(".jupyter-widgets").count() > 0
    move_slider_and_check_image(page, widget_css, image_css)


def test_notebook7_classic_interface(server, page):
    """Notebook 7: run the start-here notebook and drag its slider with the mouse (arrow keys do not move it)."""
    base, token = server
    page.goto(f"{base}/notebooks/00_start_here.ipynb?token={token}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    time.sleep(2)
    run_all(page)
    assert_no_errors(page)
    widget = page.locator(".aelib-env-check").first
    widget.wait_for(timeout=30_000)
    widget.scroll_into_view_if_needed()
    image = widget.locator("img").last
    before = image.get_attribute("src")
    box = widget.locator(".noUi-handle").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 80, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    deadline = time.time() + 15
    while time.time() < deadline and image.get_attribute("src") == before:
        time.sleep(0.2)
    assert image.get_attribute("src") != before, "dragging the slider did not change the picture"
