"""The collection in a real browser: JupyterLab in headless Chromium, as a lecturer presents it.

Usage::

    python -m aelib.course.browser                       # every notebook: presentation-mode check, screenshots,
    python -m aelib.course.browser 01 11 --output DIR    #   and end-to-end widget latency (JSON + a table)

For each notebook it starts from a fresh kernel, switches on JupyterLab's Presentation Mode with the left area
collapsed in a 1280x720 window (a common projector), runs all cells, and then checks what a class would see:
no error in any output, no code line, figure or widget wider than the window, text at projector size, every
widget at the value it was first shown with. It screenshots each aelib widget, and times its controls in the
browser: from a key press on a slider (or a new dropdown choice) until the widget's picture has changed and
two animation frames have passed, i.e. until the audience sees the change. In each drawing pad it draws with
the mouse, checks that the chapter's picture follows, and times a stroke's end to the new picture the same way.

It needs Playwright's Python package and Chromium (``/usr/bin/chromium``, or ``AELIB_CHROMIUM``); it never
downloads a browser. The server listens on 127.0.0.1 only, with a random token, and serves a copy of the
notebooks (JupyterLab saves what it runs).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from . import syllabus

CHROMIUM = os.environ.get("AELIB_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PROJECTOR = {"width": 1280, "height": 720}
MIN_TEXT_PX = 16          # prose and code in presentation mode (JupyterLab: 17 px and 16 px)
MIN_FIGURE_SCALE = 0.7    # a figure drawn at 100 dpi with 12 pt text, shrunk to fit, keeps text >= 11.7 px


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def lab_server(notebooks: Path, workdir: Path | None = None, timeout: float = 60.0):
    """Start ``jupyter lab`` on 127.0.0.1 serving a copy of ``notebooks``; yield ``(base_url, token, root)``.

    The app is exposed to the page (``window.jupyterapp``) so that commands such as Presentation Mode can be
    run; windowing is off so that every cell is in the page; news and update checks are off.
    """
    tmp = Path(workdir or tempfile.mkdtemp(prefix="aelib-lab-"))
    served = tmp / "notebooks"
    if served.exists():
        shutil.rmtree(served)
    shutil.copytree(notebooks, served, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = tmp / "settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True, exist_ok=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    (settings / "apputils-extension").mkdir(parents=True, exist_ok=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTERLAB_WORKSPACES_DIR=str(tmp / "ws"), JUPYTER_RUNTIME_DIR=str(tmp / "rt"),
               JUPYTER_CONFIG_DIR=str(tmp / "cfg"), JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"))
    log_path = tmp / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--allow-root", "--no-browser", "--ip=127.0.0.1",
             f"--port={port}", "--ServerApp.port_retries=0", f"--ServerApp.token={token}",
             f"--ServerApp.root_dir={served}", "--LabApp.expose_app_in_browser=True"],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + timeout
            while True:
                try:
                    urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                    break
                except OSError:
                    if proc.poll() is not None:
                        raise RuntimeError(f"jupyter lab exited: {log_path.read_text()[-2000:]}") from None
                    if time.time() > deadline:
                        raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s") from None
                    time.sleep(0.5)
            yield base, token, served
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    if workdir is None:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def chromium():
    """Headless Chromium through Playwright (never downloads a browser); yields the browser."""
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install -y "
                                "chromium) or set AELIB_CHROMIUM to a Chromium binary")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def command(page, name: str, args: dict | None = None):
    """Run a JupyterLab command (``window.jupyterapp.commands``) in the page."""
    return page.evaluate("([n, a]) => window.jupyterapp.commands.execute(n, a)", [name, args or {}])


def open_notebook(page, base: str, token: str, name: str, timeout_s: float = 60) -> None:
    """Open ``name`` in JupyterLab (``reset``: a fresh workspace) and wait until its kernel is idle."""
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout_s * 1000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                           "window.jupyterapp.shell.currentWidget.sessionContext && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
                           timeout=timeout_s * 1000)


def present(page) -> None:
    """Presentation Mode on, the left area collapsed: what a lecturer projects."""
    command(page, "application:toggle-presentation-mode")
    if page.evaluate("() => !window.jupyterapp.shell.leftCollapsed"):
        command(page, "application:toggle-left-area")
    page.wait_for_selector(".jp-LabShell.jp-mod-presentationMode")


def run_all(page, timeout_s: float = 300) -> float:
    """Run every cell and wait until the last code cell has finished; return the seconds taken."""
    t0 = time.perf_counter()
    command(page, "notebook:run-all-cells")
    page.wait_for_function(
        """() => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
                   const t = p.length ? p[p.length - 1].textContent : '';
                   return /\\d/.test(t) && !t.includes('*'); }""", timeout=timeout_s * 1000, polling=500)
    return time.perf_counter() - t0


def errors(page) -> list[str]:
    """Error outputs and widget-error messages shown in the page."""
    return page.evaluate("""() => {
        const out = [];
        for (const el of document.querySelectorAll('.jp-OutputArea-output'))
            { const t = el.innerText || '';
              if (t.includes('Traceback') || t.includes('Error displaying widget')) out.push(t.slice(0, 400)); }
        for (const el of document.querySelectorAll('.aelib-widget-error')) out.push(el.innerText.slice(0, 400));
        return out; }""")


def layout_report(page) -> dict:
    """What a class sees at this window size: elements wider than their room, text sizes, figure scales.

    Returns ``{"overflow": [descriptions], "prose_px", "code_px", "smallest_figure_scale", "figures"}``.
    Overflow counts a code cell whose lines scroll sideways, an output or widget wider than the notebook
    (clipped or scrolled), and a page wider than the window.
    """
    return page.evaluate("""() => {
        const W = window.innerWidth, over = [];
        const cellIndex = el => { const c = el.closest('.jp-Cell');
            return c ? [...c.parentElement.children].indexOf(c) : -1; };
        for (const s of document.querySelectorAll('.jp-CodeCell .cm-scroller'))
            if (s.scrollWidth > s.clientWidth + 2) over.push(`cell ${cellIndex(s)}: code lines wider than the cell`);
        for (const o of document.querySelectorAll('.jp-OutputArea-output')) {
            const r = o.getBoundingClientRect();
            if (o.scrollWidth > o.clientWidth + 2 || r.right > W + 1)
                over.push(`cell ${cellIndex(o)}: output ${Math.round(o.scrollWidth)} px in ${Math.round(o.clientWidth)} px`);
            for (const w of o.querySelectorAll('.jupyter-widgets')) {
                const b = w.getBoundingClientRect();
                if (b.right > W + 1) { over.push(`cell ${cellIndex(o)}: widget reaches ${Math.round(b.right)} px`); break; }
            }
        }
        if (document.documentElement.scrollWidth > W + 1) over.push('the page scrolls sideways');
        const px = sel => { const e = document.querySelector(sel);
            return e ? parseFloat(getComputedStyle(e).fontSize) : null; };
        const figures = [...document.querySelectorAll('.jp-RenderedImage img')].filter(i => i.naturalWidth > 0)
            .map(i => ({cell: cellIndex(i), scale: i.clientWidth / i.naturalWidth, width: i.naturalWidth}));
        return {overflow: over, prose_px: px('.jp-RenderedMarkdown p'), code_px: px('.jp-CodeCell .cm-content'),
                smallest_figure_scale: figures.length ? Math.min(...figures.map(f => f.scale)) : null, figures};
    }""")


_ARM = """(sel) => {
    const w = document.querySelector(sel);
    const img = [...w.querySelectorAll('img')].pop();
    window.__aelib = {t0: null, t1: null};
    const mark = e => { window.__aelib.t0 = e.timeStamp; window.__aelib.t1 = null; };
    w.addEventListener('keydown', mark, {capture: true, once: true});
    w.addEventListener('change', mark, {capture: true, once: true});
    const obs = new MutationObserver(() => { obs.disconnect();
        requestAnimationFrame(() => requestAnimationFrame(() => { window.__aelib.t1 = performance.now(); })); });
    obs.observe(img, {attributes: true, attributeFilter: ['src']});
}"""


def widget_controls(page) -> list[dict]:
    """The aelib widgets in the page, in page order: ``{"css" (its most specific aelib- class), "selector"
    (unique in the page), "sliders", "dropdowns"}`` each. Only widgets with a picture and a control count."""
    return page.evaluate("""() => [...document.querySelectorAll('.jupyter-widgets[class*="aelib-"]')]
        .filter(w => ![...w.classList].some(c => c.startsWith('aelib-latent-')) ||
                     w.classList.contains('aelib-latent-explorer'))
        .filter(w => w.querySelector('img') && w.querySelector('.noUi-handle, select'))
        .map((w, i) => { w.dataset.aelibWidget = String(i);
            const names = [...w.classList].filter(c => c.startsWith('aelib-'));
            return {css: names[names.length - 1], selector: `[data-aelib-widget="${i}"]`,
                    sliders: w.querySelectorAll('.noUi-handle').length,
                    dropdowns: w.querySelectorAll('select').length}; })""")


def time_control(page, selector: str, moves: int = 8, pause: float = 0.15, timeout_s: float = 10) -> list[float]:
    """Milliseconds from a key press on the widget's first slider (or a new choice in its first dropdown)
    until its picture has changed and two animation frames have passed; one number per move.

    A slider moves one step at a time towards one end, then back towards the other (values come back, as when
    a lecturer goes back and forth); ``pause``: seconds between one move's picture and the next key press."""
    widget = page.locator(selector).first
    widget.scroll_into_view_if_needed()
    handle = widget.locator(".noUi-handle").first
    select = widget.locator("select").first
    use_slider = handle.count() > 0
    direction = "ArrowRight"        # bounce between the ends of the slider
    out = []
    for i in range(moves):
        page.evaluate(_ARM, selector)
        if use_slider:
            now, lo, hi = (float(handle.get_attribute(a)) for a in ("aria-valuenow", "aria-valuemin",
                                                                   "aria-valuemax"))
            if now >= hi:
                direction = "ArrowLeft"
            elif now <= lo:
                direction = "ArrowRight"
            handle.focus()
            handle.press(direction)
        else:
            options = select.locator("option").all_inner_texts()
            current = select.evaluate("s => s.selectedIndex")
            select.select_option(index=(current + 1) % len(options))
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            got = page.evaluate("() => window.__aelib.t1 === null ? null : window.__aelib.t1 - window.__aelib.t0")
            if got is not None:
                out.append(float(got))
                break
            time.sleep(0.01)
        time.sleep(pause)
    return out


def widgets_without_static_figure(page) -> list[str]:
    """The aelib widgets (as found by :func:`widget_controls`, which must run first) with no static figure
    between them and the previous widget: what a reader without a kernel would miss. Returns their css names."""
    return page.evaluate("""() => { let seen = false; const out = [];
        for (const el of document.querySelectorAll('.jp-OutputArea-output img, [data-aelib-widget]')) {
            if (el.matches('[data-aelib-widget]')) {
                if (!seen) out.push([...el.classList].filter(c => c.startsWith('aelib-')).pop());
                seen = false;
            } else if (!el.closest('.jupyter-widgets')) { seen = true; }
        }
        return out; }""")


PAD_EXPLORER = ".aelib-pad-explorer"      # aelib.pad.PadExplorer: drawing pads beside a picture

_ARM_PAD = """([sel, k]) => {
    const w = document.querySelector(sel);
    const canvas = w.querySelectorAll('canvas.aelib-pad-canvas')[k];
    const pad = canvas.closest('.aelib-pad').parentElement;          // the pad's element: data-sent, data-done
    const img = w.querySelector('img.aelib-pad-picture');
    const st = window.__aelibPad = {t0: null, changes: [], painted: [], target: null, ms: null};
    const finish = () => {
        if (st.ms !== null || st.target === null) return;
        if (st.target < 0) { st.ms = st.acked - st.t0; return; }       // no new picture: it was already right
        if (st.painted[st.target] !== undefined) { st.ms = st.painted[st.target] - st.t0; obs.disconnect(); }
    };
    canvas.addEventListener('pointerup', e => { st.t0 = e.timeStamp; }, {capture: true, once: true});
    const obs = new MutationObserver(() => {
        if (st.t0 === null) return;
        const i = st.changes.length; st.changes.push(performance.now());
        requestAnimationFrame(() => requestAnimationFrame(() => { st.painted[i] = performance.now(); finish(); }));
    });
    obs.observe(img, {attributes: true, attributeFilter: ['src']});
    const ack = new MutationObserver(() => {
        if (st.t0 === null || st.target !== null || +pad.dataset.done < +pad.dataset.sent) return;
        ack.disconnect(); st.acked = performance.now(); st.target = st.changes.length - 1; finish();
    });
    ack.observe(pad, {attributes: true, attributeFilter: ['data-done']});
}"""


def pad_explorers(page) -> list[dict]:
    """The drawing-pad widgets (:class:`aelib.pad.PadExplorer`) in the page, in page order: ``{"css" (its most
    specific aelib- class), "selector" (unique in the page), "pads" (how many pads)}`` each."""
    return page.evaluate("""() => [...document.querySelectorAll('.jupyter-widgets.aelib-pad-explorer')]
        .map((w, i) => { w.dataset.aelibPadExplorer = String(i);
            const names = [...w.classList].filter(c => c.startsWith('aelib-'));
            return {css: names[names.length - 1], selector: `[data-aelib-pad-explorer="${i}"]`,
                    pads: w.querySelectorAll('canvas.aelib-pad-canvas').length}; })""")


def pad_settled(page, selector: str, pad: int = 0, timeout_s: float = 10) -> None:
    """Wait until the kernel has handled every update a pad sent (its ``done`` has caught up with ``sent``)."""
    page.wait_for_function("""([sel, k]) => { const c = document.querySelectorAll(sel + ' canvas.aelib-pad-canvas')[k];
        const p = c && c.closest('.aelib-pad').parentElement;
        return p && p.dataset.sent !== undefined && +p.dataset.done >= +p.dataset.sent; }""",
                           arg=[selector, pad], timeout=timeout_s * 1000)


def draw_stroke(page, selector: str, points, pad: int = 0, steps: int = 3) -> None:
    """Draw one stroke on a pad with real mouse events: press at the first point, move through the others
    (``steps`` mouse moves between two points), release at the last. ``points``: ``[(x, y), ...]`` in pad pixels
    (0 to 28, y down), as :func:`aelib.pad.image_from_strokes` takes them. The canvas is scrolled into view."""
    canvas = page.locator(f"{selector} canvas.aelib-pad-canvas").nth(pad)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    border = (box["width"] - float(canvas.evaluate("c => c.clientWidth"))) / 2

    def at(p):
        inner = box["width"] - 2 * border
        return box["x"] + border + p[0] / 28 * inner, box["y"] + border + p[1] / 28 * inner
    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*at(p), steps=steps)
    page.mouse.up()


def time_pad_strokes(page, selector: str, strokes: int = 8, pause: float = 0.3, timeout_s: float = 10,
                     pad: int = 0) -> list[float]:
    """Milliseconds from a stroke's end (the mouse button released) until the widget's picture for the finished
    stroke has changed and two animation frames have passed: what the audience waits for after drawing.
    One number per stroke, as :func:`time_control` times a key press.

    Each stroke is a short straight line drawn with real mouse events (quick enough that the pad sends it once,
    when the pen lifts), then undone with the Undo button, so that the digit under it stays the same; ``pause``:
    seconds between one stroke's undo being handled and the next stroke. The picture "for the finished stroke"
    is the last one the kernel sent before it acknowledged the pad's final update."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    undo = page.locator(f"{selector} button.aelib-pad-undo").nth(pad)
    out = []
    for i in range(strokes):
        pad_settled(page, selector, pad, timeout_s)
        page.evaluate(_ARM_PAD, [selector, pad])
        x = 6 + (i * 5) % 17
        draw_stroke(page, selector, [(x, 5), (x + 4, 14), (x + 2, 23)], pad=pad, steps=2)
        try:
            got = page.wait_for_function("() => window.__aelibPad.ms === null ? null : [window.__aelibPad.ms]",
                                         timeout=timeout_s * 1000, polling=10)
            out.append(float(got.json_value()[0]))
        except PlaywrightTimeout:           # no picture came: the stroke is left out, as time_control does
            pass
        pad_settled(page, selector, pad, timeout_s)
        undo.click()
        pad_settled(page, selector, pad, timeout_s)
        time.sleep(pause)
    return out


SLASH = [(5, 23), (10, 17), (16, 11), (23, 5)]       # a stroke across the middle of a pad (pad pixels)


def pad_changes_picture(page, selector: str, pad: int = 0, points=SLASH, timeout_s: float = 10) -> dict:
    """Draw one stroke (``points``, pad pixels) on a pad with real mouse events and report what the widget showed
    before and after: ``{"picture": changed, "caption": changed, "preview": changed}`` (the chapter's picture,
    its caption, and the pad's own "the model sees" picture). The stroke stays; the Undo button removes it."""
    widget = page.locator(selector).first
    picture = widget.locator("img.aelib-pad-picture").first
    preview = widget.locator("img.aelib-pad-preview").nth(pad)
    caption = widget.locator(".aelib-pad-caption").first
    pad_settled(page, selector, pad, timeout_s)
    before = (picture.get_attribute("src"), caption.inner_text(), preview.get_attribute("src"))
    draw_stroke(page, selector, points, pad=pad)
    pad_settled(page, selector, pad, timeout_s)
    deadline = time.time() + timeout_s
    while True:
        after = (picture.get_attribute("src"), caption.inner_text(), preview.get_attribute("src"))
        if all(a != b for a, b in zip(after, before)) or time.time() > deadline:
            break
        time.sleep(0.05)
    return {k: a != b for k, a, b in zip(("picture", "caption", "preview"), after, before)}


def check_pads(page, shots: Path | None = None, name: str = "", strokes: int = 8,
               pause: float = 0.3) -> list[dict]:
    """Draw in, screenshot and time every drawing-pad widget in the page (see :func:`pad_explorers`).

    For each widget: a screenshot as the page left it; on each of its pads a stroke across the digit, drawn with
    the mouse, whose picture, caption and preview must change (:func:`pad_changes_picture`); a screenshot with
    the strokes on; Undo on each pad; then ``strokes`` strokes on its first pad, each timed by
    :func:`time_pad_strokes` and undone.

    Returns one entry per widget, shaped like :func:`check_notebook`'s ``widgets`` entries so that
    :func:`latency_rows` lists them too: ``{"css", "ms": [...], "paced_ms": [], "pads", "changed": [one dict per
    pad]}``. Screenshots go to ``shots/<first two letters of name>-<css>.png`` and ``...-<css>-drawn.png``."""
    out = []
    for w in pad_explorers(page):
        sel, loc = w["selector"], page.locator(w["selector"]).first
        pad_settled(page, sel)
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            loc.scroll_into_view_if_needed()
            loc.screenshot(path=str(shots / f"{name[:2]}-{w['css']}.png"))
        changed = [pad_changes_picture(page, sel, k) for k in range(w["pads"])]
        if shots is not None:
            loc.screenshot(path=str(shots / f"{name[:2]}-{w['css']}-drawn.png"))
        for k in range(w["pads"]):
            page.locator(f"{sel} button.aelib-pad-undo").nth(k).click()
            pad_settled(page, sel, k)
        ms = time_pad_strokes(page, sel, strokes=strokes, pause=pause) if strokes else []
        out.append({"css": w["css"], "ms": ms, "paced_ms": [], "pads": w["pads"], "changed": changed})
    return out


def reveals(page, shots: Path | None = None, name: str = "") -> dict:
    """The ``<details>`` reveals in the rendered markdown (self-check answers, model answers): how many, and
    whether the first one shows its hidden text once its summary is clicked (and hides it again).
    Returns ``{"count", "opens"}``; ``opens`` is None when there is none."""
    items = page.locator(".jp-RenderedMarkdown details")
    count = items.count()
    if not count:
        return {"count": 0, "opens": None}
    first = items.first
    first.scroll_into_view_if_needed()
    hidden = first.locator(":scope > :not(summary)").first
    closed = not hidden.is_visible()
    first.locator("summary").click()
    page.wait_for_timeout(200)
    opened = hidden.is_visible()
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        first.screenshot(path=str(shots / f"{name[:2]}-reveal.png"))
    first.locator("summary").click()
    return {"count": count, "opens": bool(closed and opened and not hidden.is_visible())}


def check_notebook(page, base: str, token: str, name: str, shots: Path | None = None,
                   latency: bool = True, moves: int = 8, paced: float | None = None) -> dict:
    """Open, present, run all and check one notebook; screenshot and time its widgets, and draw in its drawing pads.

    Returns ``{"notebook", "seconds", "errors", "layout", "reveals", "unillustrated", "widgets": [{"css", "ms": [...],
    "paced_ms": [...]}, ...]}``: ``ms`` for moves 0.15 s apart, ``paced_ms`` (if ``paced``) for moves ``paced`` seconds apart.
    The drawing pads' entries (:func:`check_pads`) come last, with ``moves`` timed strokes each and ``"changed"``.
    """
    open_notebook(page, base, token, name)
    present(page)
    seconds = run_all(page)
    page.wait_for_timeout(1500)          # the last outputs and widget views render
    result = {"notebook": name, "seconds": seconds, "errors": errors(page), "layout": layout_report(page),
              "reveals": reveals(page, shots, name), "widgets": []}
    for w in widget_controls(page):
        entry = {"css": w["css"], "ms": [], "paced_ms": []}
        loc = page.locator(w["selector"]).first
        loc.scroll_into_view_if_needed()
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            loc.screenshot(path=str(shots / f"{name[:2]}-{w['css']}.png"))
        if latency:
            entry["ms"] = time_control(page, w["selector"], moves)
            if paced:
                entry["paced_ms"] = time_control(page, w["selector"], moves, pause=paced)
        result["widgets"].append(entry)
    result["unillustrated"] = widgets_without_static_figure(page)
    result["widgets"] += check_pads(page, shots, name, strokes=moves if latency else 0)
    command(page, "notebook:shutdown-kernel")
    return result


def latency_rows(results: list[dict]) -> list[dict]:
    """One row per timed widget: ``{"notebook", "css", "median_ms", "max_ms", "moves", "paced_ms"}``."""
    rows = []
    for r in results:
        for w in r["widgets"]:
            if w["ms"]:
                paced = w.get("paced_ms") or []
                rows.append({"notebook": r["notebook"], "css": w["css"], "median_ms": statistics.median(w["ms"]),
                             "max_ms": max(w["ms"]), "moves": len(w["ms"]),
                             "paced_ms": statistics.median(paced) if paced else None})
    return rows


def run(paths: list[Path], out: Path, moves: int = 8, paced: float | None = 1.5) -> list[dict]:
    """:func:`check_notebook` for each notebook in ``paths`` (one server, one browser, a fresh 1280x720 page
    each); screenshots go to ``out/presentation/``. A notebook that fails is reported, not raised."""
    out.mkdir(parents=True, exist_ok=True)
    results = []
    with lab_server(paths[0].parent) as (base, token, _), chromium() as browser:
        for p in paths:
            ctx = browser.new_context(viewport=PROJECTOR)
            page = ctx.new_page()
            print(f"{p.name} ...", flush=True)
            try:
                r = check_notebook(page, base, token, p.name, shots=out / "presentation", moves=moves, paced=paced)
            except Exception as err:  # keep going: the other notebooks' numbers still count
                page.screenshot(path=str(out / f"failed-{p.name[:2]}.png"), full_page=True)
                r = {"notebook": p.name, "seconds": float("nan"), "errors": [f"{type(err).__name__}: {err}"[:400]],
                     "layout": {"overflow": [], "figures": []}, "widgets": []}
            ctx.close()
            results.append(r)
            lat = ", ".join(f"{w['css']} {statistics.median(w['ms']):.0f} ms"
                            + (f" (paced {statistics.median(w['paced_ms']):.0f} ms)" if w["paced_ms"] else "")
                            for w in r["widgets"] if w["ms"])
            print(f"  run all {r['seconds']:.1f} s; {len(r['errors'])} errors; overflow {r['layout']['overflow']}; "
                  f"{lat}", flush=True)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check the notebooks in presentation mode in Chromium and "
                                                 "time their widgets end to end.")
    parser.add_argument("only", nargs="*", help="notebook name prefixes (default: all)")
    parser.add_argument("--output", default=None, help="folder for screenshots and results.json "
                                                        "(default: .browser-artifacts/ beside notebooks/)")
    parser.add_argument("--moves", type=int, default=8, help="timed moves per widget (default 8)")
    parser.add_argument("--paced", type=float, default=1.5,
                        help="seconds between moves in the second, paced series (default 1.5; 0: none)")
    args = parser.parse_args(argv)
    try:
        paths = syllabus.selected_paths(args.only)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    out = Path(args.output) if args.output else paths[0].parent.parent / ".browser-artifacts"
    results = run(paths, out, moves=args.moves, paced=args.paced or None)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"wrote {out / 'results.json'} and screenshots in {out / 'presentation'}")
    return 1 if any(r["errors"] or r["layout"]["overflow"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
