#!/usr/bin/python3
"""Executes the project's notebooks headless, top to bottom, and fails loudly.

Usage (from anywhere; paths are relative to the current directory):

    /usr/bin/python3 scripts/run_notebooks.py [--out DIR] [--timeout SECONDS] [--fail-fast] [NOTEBOOK ...]

Without NOTEBOOK arguments it runs every notebooks/*.ipynb of the repository in name order
(notebooks/testdata/ holds deliberately broken notebooks and is never included).

For each notebook it writes, under the output directory (default <repo>/build/notebooks):
  <name>.ipynb  the executed notebook, with its outputs (also written when a cell fails),
  <name>.html   an HTML export with the figures embedded as PNG,
  <name>.kernel.log  the GoNB kernel's own log (compilations), for when the kernel itself fails.

A notebook fails when a cell reports an error (compile error, panic, os.Exit(n), timeout, dead
kernel) or when a cell writes "exit status N" (N != 0) on stderr: that is how GoNB reports a
failed shell line (`!cmd`), which Jupyter itself treats as success. A file that is not valid
notebook JSON fails with one line naming it.

Environment given to the kernel (and so to every cell's program):
  BLOCKREC_ROOT          the repository root (notebooks use it to import the checkout),
  BLOCKREC_SCALE         smoke | cpu | paper (default cpu; validated here),
  PATH                   with Go's bin directory ($(go env GOPATH)/bin: gonb, goimports) first.
The per-cell timeout comes from --timeout, else BLOCKREC_CELL_TIMEOUT, else a default per scale.

Progress: each cell is announced as it starts (notebook i/N, cell number, its first line), what
the cells print (training progress bars included) is streamed to the terminal, a line is printed
after every minute of silence, and the overall ETA comes from the last run's recorded times
(<out>/timings.json, per scale), or, for a notebook this checkout has not run yet, from the
committed times of a first run on a fresh clone (scripts/reference_timings.json, which says what
machine and data it was measured on). The backend notice every cell's program prints is shown once per
notebook.

Stopping: Ctrl-C (SIGINT) or SIGTERM kills the running kernel and every process it started,
removes the kernels' temporary folders (TMPDIR is a folder of this run), starts no further
notebook and exits 130 (SIGINT) or 143 (SIGTERM) within seconds.

FAIL_FAST=1 in the environment (`make notebooks FAIL_FAST=1`) is the same as --fail-fast.

Exit status: 0 all notebooks passed, 1 some failed, 2 usage or setup error, 130/143 interrupted.
It needs Debian's Jupyter packages and GoNB: run scripts/install.sh (or `make setup`) first.
"""

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import signal
import tempfile
import threading
import time
import warnings

# nbconvert warns that it highlights Go cells with a Python lexer; the HTML is fine.
warnings.filterwarnings("ignore", message="IPython3 lexer unavailable")

SCALES = ("smoke", "cpu", "paper")
DEFAULT_SCALE = "cpu"
# Default per-cell timeout in seconds for each scale; None means no limit.
DEFAULT_TIMEOUT = {"smoke": 900, "cpu": 4 * 3600, "paper": None}
EXIT_STATUS = re.compile(r"^exit status (\d+)\s*$", re.MULTILINE)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived. A BaseException, so that asyncio (nbclient's loop) lets it through."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.code = 128 + signum


# The notebook client running now, so that a signal can kill its kernel at once, and the signal
# that stopped the run.
ACTIVE = {"client": None}
STOP = {"signum": None}


def on_signal(signum, _frame):
    """Records the signal and kills the running kernel and everything it started; nbclient then
    fails the cell and run_one raises Interrupted. (Raising here, inside nbclient's event loop,
    would be swallowed by its cleanup.) Between notebooks it raises Interrupted at once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    STOP["signum"] = signum
    if ACTIVE["client"] is None:
        raise Interrupted(signum)
    pid = kernel_pid(ACTIVE["client"])
    if pid:
        kill_tree(pid)


def install_signal_handlers():
    """Puts on_signal on SIGINT and SIGTERM, unless a signal already came."""
    if STOP["signum"] is None:
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)


def check_stop(client=None):
    """Raises Interrupted when a signal arrived, killing client's kernel first."""
    if STOP["signum"] is not None:
        pid = kernel_pid(client)
        if pid:
            kill_tree(pid)
        raise Interrupted(STOP["signum"])


def descendants(pid):
    """The ids of every live process below pid, read from /proc (empty where there is none)."""
    children = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(pid):
    """SIGKILLs pid, its process group and every process below it (a cell's Go program may run in
    a group of its own)."""
    victims = descendants(pid)
    for target in [pid] + victims:
        try:
            os.kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def kernel_pid(client):
    """The process id of a client's kernel, or None."""
    km = getattr(client, "km", None)
    prov = getattr(km, "provisioner", None)
    proc = getattr(prov, "process", None) or getattr(km, "kernel", None)
    return getattr(proc, "pid", None)


BACKEND_NOTICE = re.compile(r"^blockrec: backend .*\n?", re.MULTILINE)


class Progress:
    """What the terminal shows while a notebook runs: cell starts, streamed output, a line after
    each minute of silence, and the ETA of the whole run (at each cell start, and every eta_every
    seconds while a long cell prints its own progress)."""

    def __init__(self, out=None, silence=60, eta_every=600, tick=5):
        self.out = out or sys.stderr
        self.silence = silence
        self.eta_every = eta_every
        self.tick = tick
        self.last = self.last_eta = self.notebook_start = time.monotonic()
        self.where = ""
        self.lock = threading.RLock()  # guards the fields below, which the heartbeat thread reads
        self.stop = threading.Event()
        self.current = None  # seconds this notebook is expected to take, or None
        self.after = None  # seconds the notebooks after it are expected to take, or None
        self.eta_source = "last run's times"  # where those expectations come from

    def start_notebook(self, current, after, eta_source):
        """A notebook starts: it is expected to take current seconds and the ones after it after."""
        with self.lock:
            self.current, self.after, self.eta_source = current, after, eta_source
            self.notebook_start = self.last_eta = time.monotonic()

    def known(self):
        return self.current is not None and self.after is not None

    def eta(self):
        """", run ETA ~… (source)" from the expected times, or "" when some are unknown. A notebook
        past its expected time counts as ending now, and the line says how far over it is."""
        with self.lock:
            if not self.known():
                return ""
            self.last_eta = time.monotonic()
            elapsed = self.last_eta - self.notebook_start
            note = self.eta_source
            if elapsed > self.current:
                note += f"; this notebook is {fmt_time(elapsed - self.current)} over its expected {fmt_time(self.current)}"
            return f", run ETA ~{fmt_time(max(0, self.current - elapsed) + self.after)} ({note})"

    def write(self, text):
        with self.lock:
            self.out.write(text)
            self.out.flush()
            self.last = time.monotonic()

    def heartbeat(self):
        while not self.stop.wait(self.tick):
            with self.lock:
                now = time.monotonic()
                if now - self.last >= self.silence:
                    self.write(f"run_notebooks: ... still running {self.where} ({fmt_time(now - self.notebook_start)} in this notebook{self.eta()})\n")
                elif self.eta_every and self.known() and now - self.last_eta >= self.eta_every:
                    self.write(f"run_notebooks: {self.where}: {fmt_time(now - self.notebook_start)} in this notebook{self.eta()}\n")

    def __enter__(self):
        self.thread = threading.Thread(target=self.heartbeat, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()


def fmt_time(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def read_json_table(path):
    """The JSON object in path; {} when the file is missing, unreadable or not an object."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def read_timings(out_dir):
    return read_json_table(os.path.join(out_dir, "timings.json"))


REFERENCE_TIMINGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_timings.json")


def read_reference_timings(path=REFERENCE_TIMINGS):
    """The committed wall times of a first run on a fresh clone: {"about": what it ran on,
    <scale>: {<notebook>: seconds}}; {} when the file is missing or unreadable."""
    return read_json_table(path)


def expected_times_each(names, last, reference):
    """What each notebook is expected to take: its last recorded time here, else the reference
    time; returns the times (None where neither is known) and, for each, where it comes from
    ("last run's times", "reference times" or None)."""
    def seconds(table, name):
        v = table.get(name) if isinstance(table, dict) else None
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
        return v if ok else None
    times, sources = [], []
    for n in names:
        t, source = seconds(last, n), "last run's times"
        if t is None:
            t, source = seconds(reference, n), "reference times"
        times.append(t)
        sources.append(source if t is not None else None)
    return times, sources


def source_label(sources):
    """One label for where a list of expected times comes from ("" when from nowhere)."""
    return " and ".join(sorted({s for s in sources if s}))


def expected_times(names, last, reference):
    """expected_times_each, with one label of where all the times come from."""
    times, sources = expected_times_each(names, last, reference)
    return times, source_label(sources)


def record_timing(out_dir, scale, name, wall):
    data = read_timings(out_dir)
    data.setdefault(scale, {})[name] = round(wall, 1)
    atomic_write(os.path.join(out_dir, "timings.json"), json.dumps(data, indent=1, sort_keys=True) + "\n")


class ShellLineFailed(Exception):
    """A cell wrote "exit status N" (N != 0) on stderr: a shell line failed."""


class NotebookFailure(Exception):
    """Why a notebook failed: the cell index (None when not at a cell) and one error line."""

    def __init__(self, cell_index, line):
        super().__init__(line)
        self.cell_index = cell_index
        self.line = line


def first_line(text, fallback="(no message)"):
    """The first non-blank line of text, without terminal colour codes."""
    for line in ANSI.sub("", text or "").splitlines():
        if line.strip():
            return line.strip()
    return fallback


def stderr_text(cell):
    """All of a cell's stderr output, its chunks joined."""
    return "".join(
        "".join(o.get("text", ""))  # A saved notebook may hold the text as a list of lines.
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stderr"
    )


def error_line(cell):
    """The most telling line of a failed cell's outputs: a panic, else a compiler error, else the
    first other message, else the bare "exit status N"."""
    lines = stderr_text(cell).splitlines()  # Streams arrive in chunks: join them before splitting.
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            lines += (o.get("ename", "") + ": " + o.get("evalue", "")).splitlines()
            lines += "\n".join(o.get("traceback", [])).splitlines()
    lines = [ANSI.sub("", line).strip() for line in lines]
    lines = [line for line in lines if line and line not in ("ERROR:", "ERROR")]
    for pattern, prefix in ((r"^panic: ", ""), (r"\.go:\d+(:\d+)?: ", "compile error: ")):
        for line in lines:
            if re.search(pattern, line):
                return prefix + line
    for line in lines:
        bare = re.sub(r"^ERROR: ", "", line)
        if not re.match(r"^# gonb_", bare) and not EXIT_STATUS.match(bare):
            return line
    for line in lines:
        m = EXIT_STATUS.search(line)
        if m:
            return f"exit status {m.group(1)} (a shell line or the cell's program failed)"
    return "error (no message)"


def cell_label(cell):
    """The cell's first source line, shortened, to help find it."""
    lines, in_import = [], False
    for line in (line.strip() for line in cell.get("source", "").splitlines()):
        if line.startswith("import ("):
            in_import = True
        elif in_import:
            in_import = line != ")"
        elif line and line != "%%" and not line.startswith("import "):
            lines.append(line)
    src = next(iter(lines), "")
    return src if len(src) <= 40 else src[:37] + "..."


def check_shell_lines(cell, cell_index, **_):
    """nbclient hook run after each cell: GoNB reports failed shell lines only on stderr."""
    for m in EXIT_STATUS.finditer(ANSI.sub("", stderr_text(cell))):
        if int(m.group(1)) != 0:
            raise ShellLineFailed(f"exit status {m.group(1)}")


def go_bin_dirs():
    """Directories that must be on the kernel's PATH: Go's own bin and $(go env GOPATH)/bin."""
    go = shutil.which("go")
    if go is None and os.path.exists("/usr/local/go/bin/go"):
        go = "/usr/local/go/bin/go"
    if go is None:
        raise SystemExit("run_notebooks: 'go' is not on PATH (install Go, then run `make setup`)")
    dirs = [os.path.dirname(os.path.realpath(go))]
    out = subprocess.run([go, "env", "GOBIN", "GOPATH"], capture_output=True, text=True, check=True)
    gobin, gopath = (out.stdout.splitlines() + ["", ""])[:2]
    dirs.append(gobin or os.path.join(gopath.split(os.pathsep)[0], "bin"))
    return dirs


def kernel_env(scale):
    """Sets up os.environ for the kernels started by this process."""
    path = os.environ.get("PATH", "").split(os.pathsep)
    os.environ["PATH"] = os.pathsep.join(go_bin_dirs() + [p for p in path if p])
    os.environ["BLOCKREC_ROOT"] = REPO_ROOT
    os.environ["BLOCKREC_SCALE"] = scale
    for tool in ("gonb", "goimports"):
        if shutil.which(tool) is None:
            raise SystemExit(f"run_notebooks: '{tool}' not found on PATH; run `make setup` (scripts/install.sh)")


def atomic_write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def save_outputs(nb, name, out_dir):
    import nbformat
    from nbconvert import HTMLExporter

    atomic_write(os.path.join(out_dir, name + ".ipynb"), nbformat.writes(nb))
    html, _ = HTMLExporter().from_notebook_node(nb)
    atomic_write(os.path.join(out_dir, name + ".html"), html)


def run_one(path, out_dir, timeout, progress=None, label=""):
    """Runs one notebook; returns (number of code cells run, number of code cells); raises
    NotebookFailure, or Interrupted after killing the kernel and all it started."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        json.loads(text)
    except (OSError, UnicodeDecodeError) as e:
        raise NotebookFailure(None, f"cannot read the notebook: {e}")
    except json.JSONDecodeError as e:
        raise NotebookFailure(None, f"not valid JSON: {e}")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # Valid JSON but not a notebook.
        raise NotebookFailure(None, f"not a valid notebook: {first_line(str(e))}")
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    kernel = nb.metadata.get("kernelspec", {}).get("name", "gonb")
    progress = progress or Progress(out=open(os.devnull, "w"))
    seen_notice = {"shown": False}

    class StreamingClient(NotebookClient):
        """Streams what cells print to the terminal, the backend notice once per notebook."""

        @contextlib.asynccontextmanager
        async def async_setup_kernel(self, **kwargs):
            # nbclient puts handlers of its own on SIGINT and SIGTERM (they shut the kernel down
            # and let the run go on): ours go back on top, and stay after it removes its own.
            install_signal_handlers()
            try:
                async with super().async_setup_kernel(**kwargs):
                    install_signal_handlers()
                    yield
            finally:
                install_signal_handlers()

        def output(self, outs, msg, display_id, cell_index):
            if msg.get("msg_type") == "stream":
                text = msg["content"].get("text", "")
                first = BACKEND_NOTICE.search(text)
                if first:
                    keep = 0 if seen_notice["shown"] else first.end()
                    seen_notice["shown"] = True
                    text = text[:keep] + BACKEND_NOTICE.sub("", text[keep:])
                    msg["content"]["text"] = text
                    if not text:
                        return None
                progress.write(text)
            return super().output(outs, msg, display_id, cell_index)

    client = StreamingClient(
        nb,
        timeout=timeout,
        kernel_name=kernel,
        allow_errors=False,
        record_timing=True,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        on_cell_executed=check_shell_lines,
    )
    current = {"index": None}
    numbers = {i: n + 1 for n, i in enumerate(code_cells)}
    started = time.monotonic()

    def on_cell_start(cell, cell_index, **_):
        current.update(index=cell_index)
        if STOP["signum"] is not None:  # the signal came while the kernel started
            pid = kernel_pid(client)
            if pid:
                kill_tree(pid)
            return
        if cell_index not in numbers:
            return
        progress.where = f"{label} cell {cell_index}"
        eta = progress.eta()
        progress.write(f"run_notebooks: {label} cell {cell_index} (code {numbers[cell_index]}/{len(code_cells)}): "
                       f"{cell_label(cell)}  [{fmt_time(time.monotonic() - started)} in{eta}]\n")

    client.on_cell_start = on_cell_start
    name = os.path.splitext(os.path.basename(path))[0]
    os.makedirs(out_dir, exist_ok=True)
    kernel_log = os.path.join(out_dir, name + ".kernel.log")
    failure = None
    ACTIVE["client"] = client
    try:
        with open(kernel_log, "w") as klog:  # GoNB logs every compilation: keep it out of the console.
            client.execute(stdout=klog, stderr=klog)
    except ShellLineFailed:
        failure = NotebookFailure(current["index"], error_line(nb.cells[current["index"]]))
    except CellTimeoutError:
        failure = NotebookFailure(current["index"], f"cell timed out after {timeout} s (set --timeout or BLOCKREC_CELL_TIMEOUT)")
    except DeadKernelError as e:
        failure = NotebookFailure(current["index"], f"kernel died: {first_line(str(e))} (see {kernel_log})")
    except CellExecutionError:
        failure = NotebookFailure(current["index"], error_line(nb.cells[current["index"]]))
    except Exception as e:  # Kernel missing or failing to start, and the like.
        failure = NotebookFailure(current["index"], f"{type(e).__name__}: {first_line(str(e))} (see {kernel_log})")
    finally:
        ACTIVE["client"] = None
    if STOP["signum"] is not None:
        stop = Interrupted(STOP["signum"])
        stop.where = f"{label} cell {current['index']}"
        check_stop(client)  # kills what may be left
        raise stop
    if failure is not None and failure.cell_index is not None:
        failure.line = f"({cell_label(nb.cells[failure.cell_index])}) {failure.line}"
    ran = sum(1 for i in code_cells if current["index"] is not None and i <= current["index"])
    try:
        save_outputs(nb, name, out_dir)
    except Exception as e:
        if failure is None:
            failure = NotebookFailure(None, f"saving outputs to {out_dir}: {first_line(str(e))}")
    if failure is not None:
        failure.ran = ran
        raise failure
    return len(code_cells), len(code_cells)


def default_notebooks(root=REPO_ROOT):
    """notebooks/*.ipynb in name order: not subfolders (notebooks/testdata holds broken ones)."""
    nb_dir = os.path.join(root, "notebooks")
    names = sorted(f for f in os.listdir(nb_dir) if f.endswith(".ipynb") and not f.startswith("."))
    return [os.path.join(nb_dir, f) for f in names if os.path.isfile(os.path.join(nb_dir, f))]


def out_dir_problem(out_dir, paths):
    """Why out_dir cannot receive the outputs of the notebooks at paths, or None: it must be a
    folder (or not exist yet), and no executed copy may land on one of the input notebooks."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        return f"--out {out_dir}: exists and is not a directory"
    inputs = {os.path.realpath(p): p for p in paths}
    for p in paths:
        name = os.path.splitext(os.path.basename(p))[0]
        for ext in (".ipynb", ".html", ".kernel.log"):
            target = os.path.realpath(os.path.join(out_dir, name + ext))
            if target in inputs:
                return (f"--out {out_dir}: the executed copy of {p} would overwrite the input notebook "
                        f"{inputs[target]}; choose another output directory")
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/*.ipynb)")
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "build", "notebooks"),
                    help="where executed notebooks and HTML exports go (default: build/notebooks)")
    ap.add_argument("--timeout", type=int, default=None,
                    help="per-cell timeout in seconds, <= 0 for none (default: $BLOCKREC_CELL_TIMEOUT, "
                         "else 900 at smoke, 4 h at cpu, none at paper)")
    ap.add_argument("--fail-fast", action="store_true", help="stop at the first failing notebook")
    args = ap.parse_args(argv)

    scale = os.environ.get("BLOCKREC_SCALE", "") or DEFAULT_SCALE
    if scale not in SCALES:
        log(f"run_notebooks: BLOCKREC_SCALE={scale!r} is not one of {', '.join(SCALES)}")
        return 2
    timeout = args.timeout
    if timeout is None and os.environ.get("BLOCKREC_CELL_TIMEOUT"):
        try:
            timeout = int(os.environ["BLOCKREC_CELL_TIMEOUT"])
        except ValueError:
            log(f"run_notebooks: BLOCKREC_CELL_TIMEOUT={os.environ['BLOCKREC_CELL_TIMEOUT']!r} is not a whole number of seconds")
            return 2
    if timeout is None:
        timeout = DEFAULT_TIMEOUT[scale]
    if timeout is not None and timeout <= 0:
        timeout = None

    paths = args.notebooks or default_notebooks()
    if not paths:
        log(f"run_notebooks: no notebooks in {os.path.join(REPO_ROOT, 'notebooks')}")
        return 2
    for p in paths:
        if not os.path.isfile(p):
            log(f"run_notebooks: {p}: no such notebook file")
            return 2
    problem = out_dir_problem(args.out, paths)
    if problem:
        log(f"run_notebooks: {problem}")
        return 2
    try:
        import nbclient, nbconvert, nbformat  # noqa: F401
    except ImportError as e:
        log(f"run_notebooks: {e} (use /usr/bin/python3 with Debian's Jupyter packages: run `make setup`)")
        return 2
    kernel_env(scale)

    fail_fast = args.fail_fast or os.environ.get("FAIL_FAST", "") not in ("", "0")
    install_signal_handlers()
    # The kernels' temporary folders (GoNB's per-kernel build dirs) live under one folder of this
    # run, removed at the end however the run ends.
    run_tmp = tempfile.mkdtemp(prefix="run_notebooks.")
    os.environ["TMPDIR"] = run_tmp
    try:
        return run_all(paths, args.out, timeout, scale, fail_fast)
    except Interrupted as stop:
        where = f" in {stop.where}" if getattr(stop, "where", None) else ""
        log(f"\nrun_notebooks: stopped by {stop}{where}: the kernel and its programs were killed, no further notebook started")
        return stop.code
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        shutil.rmtree(run_tmp, ignore_errors=True)


def run_all(paths, out_dir, timeout, scale, fail_fast):
    """Runs the notebooks in order; returns the exit status; raises Interrupted."""
    limit = f"{timeout} s per cell" if timeout else "no cell timeout"
    log(f"run_notebooks: {len(paths)} notebook(s), BLOCKREC_SCALE={scale}, {limit}, outputs in {out_dir}")
    last = read_timings(out_dir).get(scale, {})
    reference = read_reference_timings()
    names = [os.path.splitext(os.path.basename(p))[0] for p in paths]
    expected, sources = expected_times_each(names, last, reference.get(scale, {}))
    source = source_label(sources)
    known = [t for t in expected if t is not None]
    if known:
        unknown = len(names) - len(known)
        about = f"; reference: {reference.get('about')}" if "reference" in source and reference.get("about") else ""
        part = f" for {len(known)} of {len(names)} notebooks" if unknown else ""
        log(f"run_notebooks: expected time at {scale}: {fmt_time(sum(known))}{part} ({source}{about})")
    rows, failed = [], 0
    total_start = time.monotonic()
    with Progress() as progress:
        for i, p in enumerate(paths):
            shown = os.path.relpath(p)
            later = expected[i + 1:]
            progress.start_notebook(expected[i], sum(later) if all(r is not None for r in later) else None,
                                    source_label(sources[i:]))
            expect = f" (expected {fmt_time(expected[i])})" if expected[i] is not None else ""
            log(f"run_notebooks: [{i + 1}/{len(paths)}] running {shown}{expect} ...")
            start = time.monotonic()
            try:
                ran, n = run_one(p, out_dir, timeout, progress, f"[{i + 1}/{len(paths)}] {names[i]}")
                status, detail = "ok", ""
            except NotebookFailure as f:
                failed += 1
                ran, n = getattr(f, "ran", 0), None
                where = f"cell {f.cell_index}" if f.cell_index is not None else "file"
                status, detail = "FAILED", f"{where}: {f.line}"
                log(f"FAIL {shown} {detail}")
            wall = time.monotonic() - start
            if status == "ok":
                try:
                    record_timing(out_dir, scale, names[i], wall)
                except OSError as e:
                    log(f"run_notebooks: could not record the time of {shown}: {e}")
            rows.append((shown, status, f"{ran}/{n}" if n is not None else f"{ran}", wall, detail))
            if failed and fail_fast:
                if i + 1 < len(paths):
                    log(f"run_notebooks: --fail-fast: {len(paths) - i - 1} notebook(s) not run")
                break
    total = time.monotonic() - total_start

    width = max(len("notebook"), *(len(r[0]) for r in rows))
    print(f"\n{'notebook':<{width}}  {'result':<6}  {'cells':>5}  {'wall':>8}")
    for shown, status, cells, wall, detail in rows:
        print(f"{shown:<{width}}  {status:<6}  {cells:>5}  {wall:>7.1f}s" + (f"  {detail}" if detail else ""))
    print(f"{'total':<{width}}  {'':<6}  {'':>5}  {total:>7.1f}s")
    if failed:
        print(f"\nrun_notebooks: {failed} of {len(rows)} notebook(s) FAILED (executed copies in {out_dir})")
        return 1
    print(f"\nrun_notebooks: all {len(rows)} notebook(s) passed; executed copies and HTML in {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
