"""Real-browser tests: JupyterLab (and the classic Notebook 7 interface) in headless Chromium.

One JupyterLab server (127.0.0.1, a token) and one browser serve them all. Every notebook is presented as a
lecturer would (Presentation Mode, 1280x720), run, checked for errors and for anything too wide or too small to
read, and its widgets are moved; the classic interface runs notebook 00; the reading copy is opened from the disk
with the network blocked. Screenshots go to ``.browser-artifacts/``. They need Debian's ``chromium`` (``/usr/bin/chromium``) and
Playwright's Python package (never ``playwright install``); without them they are skipped, saying why.
"""
from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / ".browser-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from aelib.course.browser import CHROMIUM, FLAGS  # noqa: E402

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install -y chromium) "
                "to run the browser tests", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed")

from aelib.course import exercises, selfcheck, syllabus  # noqa: E402
from aelib.course.browser import (MIN_FIGURE_SCALE, MIN_TEXT_PX, PROJECTOR, check_notebook,  # noqa: E402
                           lab_server)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A Jupyter server on 127.0.0.1 serving a copy of notebooks/ (JupyterLab saves what it runs), started with
    this environment's Python, its app exposed to the page for commands such as Presentation Mode."""
    with lab_server(ROOT / "notebooks", tmp_path_factory.mktemp("jupyter")) as (base, token, _):
        yield base, token


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


NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_presented_at_projector_size(server, browser, name):
    """As a lecturer shows it: JupyterLab's Presentation Mode, left area collapsed, a 1280x720 window. Run all;
    no error; nothing wider than the window; prose and code at projector size; figures not shrunk below 70 %;
    every widget's first control moves its picture (keyboard for sliders); a stroke drawn with the mouse on every
    drawing pad moves its chapter's picture. Screenshots of every widget (each pad also with a stroke on it) are
    kept in .browser-artifacts/presentation/."""
    ctx = browser.new_context(viewport=PROJECTOR)
    page = ctx.new_page()
    try:
        result = check_notebook(page, *server, name, shots=ARTIFACTS / "presentation", moves=2)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"presentation-{name[:2]}-failed.png"), full_page=True)
        raise
    finally:
        ctx.close()
    layout = result["layout"]
    assert not result["errors"], result["errors"]
    assert not layout["overflow"], layout["overflow"]
    assert layout["prose_px"] is None or layout["prose_px"] >= MIN_TEXT_PX, layout["prose_px"]
    assert layout["code_px"] >= MIN_TEXT_PX, layout["code_px"]
    small = [f for f in layout["figures"] if f["scale"] < MIN_FIGURE_SCALE]
    assert not small, f"figures shrunk to fit (cell, scale, natural width in px): {small}"
    for w in result["widgets"]:
        assert len(w["ms"]) == 2, f"{w['css']}: its picture did not change when its control moved"
    # every drawing pad the chapter makes was drawn in with the mouse, and its picture, caption and preview followed
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    made = sum(c.source.count("PadExplorer(") for c in nb.cells if c.cell_type == "code")
    pads = [w for w in result["widgets"] if "changed" in w]
    assert len(pads) == made, f"{made} drawing-pad widgets made, {len(pads)} found: {[w['css'] for w in pads]}"
    for w in pads:
        assert all(all(pad.values()) for pad in w["changed"]), f"{w['css']}: drawing did not update {w['changed']}"
    # notebook 00's promise: a static figure before every widget, for a reader without a kernel
    assert not result["unillustrated"], f"widgets with no static figure before them: {result['unillustrated']}"
    # answers behind reveals (self-checks; the revision notebook's model answers), rendered and working in Lab
    # and the worked solutions of the exercises
    number = name[:2]
    expected = (len(syllabus.questions()) if number == "15" else
                0 if number == "00" else len(selfcheck.questions_for(number)))
    expected += len(exercises.solutions(nbformat.read(syllabus.notebook(number).path, as_version=4)))
    assert result["reveals"]["count"] == expected, result["reveals"]
    assert result["reveals"]["opens"] in ((None,) if expected == 0 else (True,)), result["reveals"]


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


def test_reading_copy_works_with_the_network_blocked(browser, reading_copy):
    """The offline fallback: opened from the disk with every non-file request refused, equations are typeset,
    the widgets draw their stored first state, and no request leaves the machine."""
    out, code = reading_copy
    assert code == 0
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    leaving = []

    def block(route):
        if not route.request.url.startswith("file://"):
            leaving.append(route.request.url)
            route.abort()
        else:
            route.continue_()
    ctx.route("**/*", block)
    page = ctx.new_page()
    try:
        # 09: equations and a figure widget; 15: the answers behind reveals and the mock paper (HTML widgets)
        for name, widget, equations in (("09_reparameterisation_trick.html", ".widget-slider", True),
                                        ("15_exam_revision.html", ".widget-htmlmath-content", False)):
            page.goto((out / name).as_uri(), wait_until="load")
            page.wait_for_selector(widget, timeout=60_000)               # widgets rendered from stored state
            page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0",
                                   timeout=60_000)
            typeset = page.locator(".MathJax, .MathJax_Display, .MathJax_CHTML").count()
            assert typeset > 0 or not equations, f"{name}: no equation was typeset"
            text = page.inner_text("body")
            assert "$$" not in text, f"{name}: raw TeX left on the page"
            if name.startswith("15"):                                    # answers: closed, open on a click
                answer = page.locator("details").filter(has_text="VAE-4 (5 marks).").first
                hidden = answer.locator("p").filter(has_text="reparameteris").first
                assert not hidden.is_visible()
                answer.locator("summary").click()
                assert hidden.is_visible()
                assert answer.locator('a[href="09_reparameterisation_trick.html"]').count() == 1
                assert page.locator("table").filter(has_text="posterior collapse").count() >= 1
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"offline-{name[:2]}.png"))
    finally:
        ctx.close()
    # (MathJax also probes for its TeX fonts, which jupyter-server-mathjax does not ship: those local requests
    # fail and it draws with the STIX-Web fonts it has, as configured by aelib.course.site)
    assert not leaving, f"requests that would leave the machine: {leaving[:5]}"
