// aelib's drawing pad (anywidget module): a 28x28 canvas drawn large with a mouse, a pen or a finger.
//
// The pad keeps its picture as strokes, lists of [x, y] points in pad pixels (0..28), in the synced trait
// "strokes", over an optional "background" (784 values in [0, 1], a test image). While a stroke is drawn the
// strokes are sent at most every "throttle_ms" and only when the kernel has handled the previous update
// (it copies "sent" to "done"), and always when the pen lifts. The kernel turns them into an image.

const N = 28;

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "aelib-pad";
  const label = document.createElement("div");
  label.className = "aelib-pad-label";
  const canvas = document.createElement("canvas");
  canvas.className = "aelib-pad-canvas";
  canvas.setAttribute("role", "img");
  const bar = document.createElement("div");
  bar.className = "aelib-pad-buttons";
  const button = (cls, text, title) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = text;
    b.title = title;
    b.setAttribute("aria-label", title);
    return b;
  };
  const undo = button("aelib-pad-undo", "Undo", "Undo the last stroke");
  const clear = button("aelib-pad-clear", "Clear", "Clear the pad");
  bar.append(undo, clear);
  root.append(label, canvas, bar);
  el.append(root);
  // A static copy (nbconvert's HTML with the widgets' state stored in the page) has no kernel: the pad shows
  // the picture it was left with, says what it does live, and takes no strokes.
  const still = !!document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
  if (still) {
    const note = document.createElement("div");
    note.className = "aelib-pad-still";
    note.textContent = "Live in Jupyter: draw a digit here with the mouse, a pen or a finger, and the picture " +
      "beside the pad follows as you draw. This copy has no kernel: the pad shows the digit the notebook left in it.";
    note.style.maxWidth = `${model.get("size") + 4}px`;
    root.append(note);
    undo.disabled = clear.disabled = true;
    canvas.style.cursor = "default";
  }
  // keys typed on the pad's buttons are theirs, not the notebook's shortcuts
  bar.setAttribute("data-lm-suppress-shortcuts", "true");

  const bg = document.createElement("canvas");
  bg.width = bg.height = N;
  const ctx = canvas.getContext("2d");
  let base = null;       // strokes when the current stroke began
  let current = null;    // the stroke being drawn: [[x, y], ...]
  let dirty = false;     // points not yet sent
  let lastSend = -1e9;
  let timer = null;

  const strokes = () => (current ? base.concat([current]) : model.get("strokes"));

  function showLabel() {
    const text = model.get("label");
    label.textContent = text;
    canvas.setAttribute("aria-label", `${text}: a drawing pad, 28 by 28 pixels; draw with the mouse, a pen or a finger`);
  }

  function resize() {
    const s = model.get("size");
    const dpr = window.devicePixelRatio || 1;
    canvas.style.width = canvas.style.height = `${s}px`;
    canvas.width = canvas.height = Math.round(s * dpr);
    paint();
  }

  function drawBackground() {
    const values = model.get("background") || [];
    const g = bg.getContext("2d");
    const img = g.createImageData(N, N);
    for (let i = 0; i < N * N; i++) {
      const c = values.length === N * N ? Math.round(255 * Math.min(1, Math.max(0, values[i]))) : 0;
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = c;
      img.data[4 * i + 3] = 255;
    }
    g.putImageData(img, 0, 0);
  }

  function paint() {
    const w = canvas.width;
    const s = w / N;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(bg, 0, 0, w, w);
    ctx.strokeStyle = ctx.fillStyle = "#ffffff";
    ctx.lineWidth = model.get("pen") * s;
    ctx.lineCap = ctx.lineJoin = "round";
    for (const st of strokes()) {
      if (!st.length) continue;
      if (st.length === 1) {
        ctx.beginPath();
        ctx.arc(st[0][0] * s, st[0][1] * s, ctx.lineWidth / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(st[0][0] * s, st[0][1] * s);
      for (let i = 1; i < st.length; i++) ctx.lineTo(st[i][0] * s, st[i][1] * s);
      ctx.stroke();
    }
    const n = model.get("strokes").length;
    undo.disabled = still || (n === 0 && !current);
    el.dataset.strokes = String(n);
  }

  function point(e) {
    const r = canvas.getBoundingClientRect();
    const clamp = (v) => Math.min(N, Math.max(0, v));
    return [Math.round(clamp(((e.clientX - r.left) / r.width) * N) * 100) / 100,
            Math.round(clamp(((e.clientY - r.top) / r.height) * N) * 100) / 100];
  }

  function send(list) {
    model.set("strokes", list);
    model.set("sent", model.get("sent") + 1);
    model.save_changes();
    lastSend = performance.now();
    dirty = false;
    el.dataset.sent = String(model.get("sent"));
  }

  function maybeSend() {
    if (!current || !dirty) return;
    const now = performance.now();
    const waiting = model.get("done") < model.get("sent") && now - lastSend < 1000;
    const wait = model.get("throttle_ms") - (now - lastSend);
    if (!waiting && wait <= 0) {
      send(base.concat([current.slice()]));
    } else if (timer === null) {
      timer = setTimeout(() => { timer = null; maybeSend(); }, Math.max(wait, 20));
    }
  }

  function down(e) {
    if (still || e.button !== 0 || current) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    base = model.get("strokes").slice();
    current = [point(e)];
    dirty = true;
    lastSend = performance.now();          // the first update goes throttle_ms after the pen touches down
    paint();
  }

  function move(e) {
    if (!current) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of events.length ? events : [e]) {
      const p = point(ev);
      const q = current[current.length - 1];
      if (Math.hypot(p[0] - q[0], p[1] - q[1]) >= 0.15) { current.push(p); dirty = true; }
    }
    paint();
    maybeSend();
  }

  function up(e) {
    if (!current) return;
    const p = point(e);
    const q = current[current.length - 1];
    if (Math.hypot(p[0] - q[0], p[1] - q[1]) >= 0.15) current.push(p);
    const list = base.concat([current]);
    current = null;
    base = null;
    if (timer !== null) { clearTimeout(timer); timer = null; }
    el.dataset.lifted = String(performance.now());
    send(list);
    paint();
  }

  function onUndo() {
    if (current) return;
    const s = model.get("strokes");
    if (s.length) send(s.slice(0, -1));
    paint();
  }

  function onClear() {
    if (current) return;
    model.set("background", []);
    send([]);
    drawBackground();
    paint();
  }

  function onDone() {
    el.dataset.done = String(model.get("done"));
    maybeSend();
  }

  function onBackground() { drawBackground(); paint(); }

  canvas.addEventListener("pointerdown", down);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("pointercancel", up);
  undo.addEventListener("click", onUndo);
  clear.addEventListener("click", onClear);
  const listeners = [["change:strokes", paint], ["change:background", onBackground], ["change:label", showLabel],
                     ["change:size", resize], ["change:pen", paint], ["change:done", onDone]];
  for (const [name, fn] of listeners) model.on(name, fn);

  showLabel();
  drawBackground();
  resize();
  el.dataset.sent = String(model.get("sent"));
  el.dataset.done = String(model.get("done"));

  return () => {
    if (timer !== null) clearTimeout(timer);
    for (const [name, fn] of listeners) model.off(name, fn);
  };
}

export default { render };
