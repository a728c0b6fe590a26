#!/usr/bin/env python3
"""The interactive path as people use it: JupyterLab in a browser.

Starts JupyterLab (the pinned one of `make lab`, in build/lab-venv) on 127.0.0.1 with a random
token, opens a copy of notebooks/00_environment.ipynb in headless Chromium (Debian's `chromium`,
driven over its DevTools protocol), clicks into the first cell and runs the command behind Run >
Run All Cells (notebook:run-all-cells) on it, waits for every
code cell to finish, then checks that

  - every code cell ran (an execution count in its prompt, none left at [*]),
  - no cell output is an error (an error output, or "panic:" / GoNB's error text on stderr),
  - the figure is displayed: an <img> in an output that the browser decoded (naturalWidth > 0).

A screenshot (the figure scrolled into view) goes to build/lab-test/<notebook>.png, whether the
test passes or not, and the page's cell texts to build/lab-test/<notebook>.txt. Everything stops
by itself: one deadline (--timeout, default 900 s, or BLOCKREC_LAB_TIMEOUT) bounds the whole run;
the server (and its kernels) and the browser are shut down and killed on every way out, Ctrl-C
included. The notebook runs on a copy under build/lab-test/, so the Lab's autosave never touches
notebooks/. Exit status 0 on success, 1 on a failed check, 2 when something needed is missing.

Run it with the virtualenv's Python (it uses tornado's websocket client, a JupyterLab
dependency): `make test-lab`, or build/lab-venv/bin/python scripts/test_lab.py [--notebook X].
"""

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO_ROOT, "build", "lab-test")


def log(msg):
    print(f"test_lab: {msg}", flush=True)


class Missing(Exception):
    """Something the test needs is not installed (exit 2)."""


class Failed(Exception):
    """A check failed (exit 1)."""


def wait_until(ready, deadline, pause, why):
    """Polls ready() every pause seconds until it is true; past the deadline raises Failed(why)."""
    while not ready():
        if time.monotonic() > deadline:
            raise Failed(why)
        time.sleep(pause)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_chromium():
    for name in (os.environ.get("BLOCKREC_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    raise Missing("no chromium on PATH (Debian: apt-get install chromium; or set BLOCKREC_CHROMIUM)")


def go_bin_dir():
    try:
        gopath = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return os.path.join(gopath, "bin") if gopath else ""


def kill_group(proc, name, grace=10):
    """Terminates proc's process group (it was started in its own session: the group also holds
    the kernels and their Go programs, which may outlive the leader), then kills what is left."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        log(f"{name} (pid {proc.pid}) did not exit after SIGKILL")


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


class CDP:
    """A minimal client of Chromium's DevTools protocol on one page's websocket."""

    def __init__(self, conn):
        self.conn, self.next_id = conn, 0

    @classmethod
    async def connect(cls, ws_url):
        from tornado.websocket import websocket_connect
        return cls(await websocket_connect(ws_url, max_message_size=256 << 20))

    async def call(self, method, timeout=60, **params):
        self.next_id += 1
        mid = self.next_id
        await self.conn.write_message(json.dumps({"id": mid, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failed(f"DevTools call {method} got no answer in {timeout} s")
            msg = await asyncio.wait_for(self.conn.read_message(), left)
            if msg is None:
                raise Failed(f"the browser closed the DevTools connection during {method}")
            m = json.loads(msg)
            if m.get("id") == mid:
                if "error" in m:
                    raise Failed(f"DevTools {method}: {m['error']}")
                return m.get("result", {})

    async def js(self, expr, timeout=60):
        """Evaluates expr in the page (promises awaited) and returns its JSON value."""
        r = await self.call("Runtime.evaluate", timeout=timeout, expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise Failed(f"page script failed: {d.get('exception', {}).get('description') or d.get('text')}")
        return r.get("result", {}).get("value")

    async def click(self, x, y):
        """A real mouse click (press and release) at page coordinates."""
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


seen = {}  # what the last probe saw, for the timeout message


async def wait_for(what, probe, deadline, every=1.0):
    """Calls the coroutine function probe until it returns a true value; fails at the deadline."""
    last = None
    while True:
        try:
            v = await probe()
        except Failed as e:  # the page may be reloading: retry until the deadline
            v, last = None, str(e)
        if v:
            return v
        if time.monotonic() > deadline:
            raise Failed(f"timed out waiting for {what}" + (f" (last error: {last})" if last else "")
                         + (f" (last seen: {seen['state']})" if seen.get("state") else ""))
        await asyncio.sleep(every)


# State of the open notebook, read from the DOM (what a person sees) and the kernel's status.
STATE_JS = r"""
(() => {
  const app = window.jupyterapp;
  const w = app && app.shell && [...app.shell.widgets('main')].find(x => x.sessionContext && x.content);
  const nb = w && w.node && w.node.querySelector('.jp-Notebook');
  if (!w || !nb) return {ready: false, app: !!app, widget: w ? w.constructor.name : null, title: document.title,
                         notebooks: document.querySelectorAll('.jp-Notebook').length};
  const ctx = w.sessionContext;
  const kernel = ctx && ctx.session && ctx.session.kernel;
  // Cells come from the notebook's model (JupyterLab renders only the cells near the viewport);
  // images from the DOM, i.e. what the browser actually decoded.
  const widgets = w.content.widgets;
  const cells = widgets.map((cw, j) => ({cw, j})).filter(({cw}) => cw.model.type === 'code').map(({cw, j}, i) => {
    const m = cw.model;
    const outs = m.outputs.toJSON().map(o => {
      if (o.output_type === 'error') return {mime: 'application/vnd.jupyter.error', text: (o.ename + ': ' + o.evalue + '\n' + (o.traceback || []).join('\n')).slice(0, 4000)};
      if (o.output_type === 'stream') return {mime: o.name === 'stderr' ? 'application/vnd.jupyter.stderr' : 'text/plain', text: [].concat(o.text).join('').slice(0, 4000)};
      const d = o.data || {};
      return {mime: Object.keys(d).join(','), text: [].concat(d['text/plain'] || d['text/markdown'] || '').join('').slice(0, 4000)};
    });
    const imgs = [...cw.node.querySelectorAll('.jp-OutputArea-output img')].map(im => ({
      complete: im.complete, w: im.naturalWidth, h: im.naturalHeight}));
    const count = m.executionCount;
    const running = (cw.node.querySelector('.jp-InputPrompt') || {}).textContent || '';
    return {index: i + 1, widget: j, prompt: running.includes('*') ? '[*]:' : '[' + (count == null ? ' ' : count) + ']:',
            count, outs, imgs};
  });
  return {ready: true, kernel: kernel ? kernel.status : 'none', name: kernel ? kernel.name : '',
          busy: ctx ? ctx.kernelDisplayStatus : '', cells};
})()
"""


def cell_errors(state):
    """One line per cell output that shows an error."""
    errs = []
    for c in state["cells"]:
        for o in c["outs"]:
            text = o["text"].strip()
            first = next((l for l in text.splitlines() if l.strip()), "")
            if o["mime"] == "application/vnd.jupyter.error":
                errs.append(f"cell {c['index']}: error output: {first[:300]}")
            elif o["mime"] == "application/vnd.jupyter.stderr" and (
                    "panic:" in text or "ERROR:" in text or "failed to run" in text or "exit status" in text):
                line = next((l for l in text.splitlines() if "panic:" in l or "ERROR" in l or "exit status" in l or "failed" in l), first)
                errs.append(f"cell {c['index']}: stderr: {line.strip()[:300]}")
    return errs


async def drive(args, lab_url, token, devtools_port, deadline):
    status, body = http_get(f"http://127.0.0.1:{devtools_port}/json/list")
    pages = [t for t in json.loads(body) if t.get("type") == "page"]
    if not pages:
        raise Failed("headless Chromium has no page to drive")
    cdp = await CDP.connect(pages[0]["webSocketDebuggerUrl"])
    await cdp.call("Page.enable")
    await cdp.call("Runtime.enable")
    # A headless page has no window focus, and JupyterLab tracks its current notebook by focus.
    await cdp.call("Emulation.setFocusEmulationEnabled", enabled=True)
    nb_name = os.path.basename(args.notebook)
    url = f"{lab_url}/lab/tree/{nb_name}?token={token}"
    log(f"opening {lab_url}/lab/tree/{nb_name} in headless Chromium")
    await cdp.call("Page.navigate", url=url)
    t0 = time.monotonic()

    async def kernel_idle():
        s = await cdp.js(STATE_JS)
        seen["state"] = {k: v for k, v in (s or {}).items() if k != "cells"} | {"cells": len((s or {}).get("cells", []))}
        return s if s and s.get("ready") and s.get("kernel") == "idle" and s["cells"] else None
    state = await wait_for("JupyterLab to open the notebook with an idle GoNB kernel", kernel_idle, deadline)
    if state["name"] != "gonb":
        raise Failed(f"the notebook's kernel is {state['name']!r}, not gonb (is the GoNB kernel spec installed? make setup)")
    log(f"notebook open, kernel {state['name']} idle after {time.monotonic() - t0:.0f} s; {len(state['cells'])} code cells")

    # Click into the first cell (a real mouse click), then run the command behind the menu's
    # Run > Run All Cells on the notebook made current.
    first = await cdp.js("""(() => { const e = document.querySelector('.jp-Notebook .jp-Cell .jp-InputArea-prompt');
        if (!e) return null; const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()""")
    if first:
        await cdp.click(*first)
    await cdp.js("""(async () => { const app = window.jupyterapp;
        const w = [...app.shell.widgets('main')].find(x => x.sessionContext && x.content);
        app.shell.activateById(w.id);
        await app.commands.execute('notebook:clear-all-cell-outputs');
        await app.commands.execute('notebook:run-all-cells'); return true; })()""")
    t1 = time.monotonic()
    log("ran Run > Run All Cells (notebook:run-all-cells)")

    async def all_ran():
        s = await cdp.js(STATE_JS)
        if s and s.get("ready"):
            seen["state"] = {"kernel": s["kernel"], "prompts": " ".join(c["prompt"] for c in s["cells"])}
        if not s or not s.get("ready"):
            return None
        if cell_errors(s):
            return s  # stop early: an error is already on screen
        done = all(c["count"] is not None and c["prompt"] != "[*]:" for c in s["cells"])
        return s if done and s["kernel"] == "idle" else None
    last_report = [0.0]

    async def progress():
        if time.monotonic() - last_report[0] > 30:
            last_report[0] = time.monotonic()
            s = await cdp.js(STATE_JS)
            if s and s.get("ready"):
                log(f"  {time.monotonic() - t1:.0f} s: prompts {' '.join(c['prompt'] or '[ ]:' for c in s['cells'])}, kernel {s['kernel']}")
        return await all_ran()
    try:
        state = await wait_for("every cell to finish", progress, deadline)
    finally:
        await save_evidence(cdp, nb_name)
    log(f"all cells ran in {time.monotonic() - t1:.0f} s")
    errs = cell_errors(state)
    if errs:
        raise Failed("a cell shows an error:\n  " + "\n  ".join(errs))
    with_png = [c for c in state["cells"] if any("image/png" in o["mime"] for o in c["outs"])]
    if not with_png:
        raise Failed("no figure: no cell has an image/png output")
    await cdp.js(f"window.jupyterapp.shell.widgets && [...window.jupyterapp.shell.widgets('main')].find(x => x.sessionContext && x.content).content.widgets[{with_png[-1]['widget']}].node.scrollIntoView({{block: 'center'}})")
    await asyncio.sleep(1.5)
    state = await cdp.js(STATE_JS)
    await save_evidence(cdp, nb_name)
    imgs = [(c["index"], im) for c in state["cells"] for im in c["imgs"]]
    shown = [(i, im) for i, im in imgs if im["complete"] and im["w"] > 0 and im["h"] > 0]
    if not shown:
        raise Failed(f"no figure is displayed: {len(imgs)} <img> in the outputs, none decoded by the browser")
    for i, im in shown:
        log(f"figure displayed in cell {i}: {im['w']}x{im['h']} px image")


async def save_evidence(cdp, nb_name):
    """Screenshot (figure in view when there is one) and the cells' texts, best effort."""
    base = os.path.join(OUT_DIR, os.path.splitext(nb_name)[0])
    try:
        await cdp.js("""(() => { const im = document.querySelector('.jp-OutputArea-output img');
            if (im) im.scrollIntoView({block: 'center'}); return !!im; })()""")
        await asyncio.sleep(0.5)
        shot = await cdp.call("Page.captureScreenshot", format="png")
        import base64
        with open(base + ".png", "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        state = await cdp.js(STATE_JS)
        with open(base + ".txt", "w") as f:
            for c in (state or {}).get("cells", []):
                f.write(f"--- cell {c['index']} {c['prompt']}\n")
                for o in c["outs"]:
                    f.write(f"[{o['mime']}]\n{o['text']}\n")
        log(f"screenshot: {os.path.relpath(base + '.png', REPO_ROOT)}, cell texts: {os.path.relpath(base + '.txt', REPO_ROOT)}")
    except Exception as e:  # noqa: BLE001 - evidence must not hide the real outcome
        log(f"could not save the screenshot: {e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notebook", default=os.path.join(REPO_ROOT, "notebooks", "00_environment.ipynb"))
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("BLOCKREC_LAB_TIMEOUT", "900")),
                    help="seconds for the whole test (default 900, or BLOCKREC_LAB_TIMEOUT)")
    args = ap.parse_args()
    deadline = time.monotonic() + args.timeout
    start = time.monotonic()
    if not os.path.isfile(args.notebook):
        log(f"ERROR: {args.notebook}: no such notebook")
        return 2

    server = browser = None
    work = None

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        try:
            import tornado.websocket  # noqa: F401
        except ImportError:
            raise Missing(f"{sys.executable} has no tornado: run this with build/lab-venv/bin/python (make test-lab)")
        jupyter = os.path.join(os.path.dirname(sys.executable), "jupyter")
        if not os.access(jupyter, os.X_OK):
            raise Missing(f"no {jupyter}: install JupyterLab with make lab-install")
        chromium = find_chromium()
        os.makedirs(OUT_DIR, exist_ok=True)
        work = tempfile.mkdtemp(prefix="run-", dir=OUT_DIR)
        nbdir = os.path.join(work, "notebooks")
        os.makedirs(nbdir)
        shutil.copy(args.notebook, nbdir)

        env = dict(os.environ)
        gobin = go_bin_dir()
        env["PATH"] = os.pathsep.join([p for p in (gobin, env.get("PATH", "")) if p])
        env["BLOCKREC_ROOT"] = REPO_ROOT  # the notebook's first cell points its Go module here
        env["BLOCKREC_SCALE"] = env.get("BLOCKREC_SCALE") or "smoke"
        for k, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
            env[k] = os.path.join(work, sub)  # no user config; kernel specs still come from the data dirs
        env["TMPDIR"] = os.path.join(work, "tmp")
        os.makedirs(env["TMPDIR"])
        port, token = free_port(), secrets.token_hex(16)
        lab_url = f"http://127.0.0.1:{port}"
        server_log = open(os.path.join(OUT_DIR, "jupyterlab.log"), "w")
        server = subprocess.Popen(
            [jupyter, "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={nbdir}",
             "--LabApp.expose_app_in_browser=True"] + (["--allow-root"] if os.geteuid() == 0 else []) + [
             f"--LabApp.user_settings_dir={os.path.join(work, 'settings')}",
             f"--LabApp.workspaces_dir={os.path.join(work, 'workspaces')}"],
            cwd=nbdir, env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True)
        log(f"JupyterLab (pid {server.pid}) on {lab_url}, scale {env['BLOCKREC_SCALE']}, log {os.path.relpath(server_log.name, REPO_ROOT)}")

        def server_up():
            if server.poll() is not None:
                server_log.flush()
                with open(server_log.name) as f:
                    tail = "".join(f.readlines()[-5:])
                raise Failed(f"JupyterLab exited with status {server.returncode}; the end of {server_log.name}:\n{tail}")
            try:
                return http_get(f"{lab_url}/api/status?token={token}")[0] == 200
            except OSError:
                return False
        wait_until(server_up, deadline, 0.5, f"JupyterLab did not answer on {lab_url} before the deadline; see {server_log.name}")
        log(f"JupyterLab up after {time.monotonic() - start:.0f} s")

        devtools_port = free_port()
        browser = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
             f"--remote-debugging-port={devtools_port}", "--remote-debugging-address=127.0.0.1",
             f"--user-data-dir={os.path.join(work, 'chromium')}", "--window-size=1400,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(OUT_DIR, "chromium.log"), "w"), start_new_session=True)

        def browser_up():
            if browser.poll() is not None:
                raise Failed(f"chromium exited with status {browser.returncode}; see {os.path.join(OUT_DIR, 'chromium.log')}")
            try:
                return http_get(f"http://127.0.0.1:{devtools_port}/json/version")[0] == 200
            except OSError:
                return False
        wait_until(browser_up, deadline, 0.3, "headless Chromium did not open its DevTools port before the deadline")

        asyncio.run(asyncio.wait_for(drive(args, lab_url, token, devtools_port, deadline),
                                     max(1, deadline - time.monotonic() + 30)))
        log(f"PASS in {time.monotonic() - start:.0f} s")
        return 0
    except Missing as e:
        log(f"ERROR: {e}")
        return 2
    except Failed as e:
        log(f"FAIL after {time.monotonic() - start:.0f} s: {e}")
        return 1
    except asyncio.TimeoutError:
        log(f"FAIL: the whole test ran past its {args.timeout} s")
        return 1
    except KeyboardInterrupt as e:
        log(f"interrupted ({e or 'SIGINT'}); cleaning up")
        return 130
    finally:
        kill_group(browser, "chromium")
        if server is not None and server.poll() is None:
            # Ask the server to shut its kernels down, then end the whole process group anyway.
            try:
                req = urllib.request.Request(f"{lab_url}/api/shutdown?token={token}", method="POST")
                urllib.request.urlopen(req, timeout=10).read()
                server.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                pass
            kill_group(server, "JupyterLab")
        if work and not os.environ.get("BLOCKREC_LAB_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
