#!/usr/bin/python3
"""Tests of scripts/run_notebooks.py: it must fail, naming the notebook and cell, on a compile
error, a panic, a failed shell line and invalid JSON, and pass (saving outputs) on a good notebook.

Run: /usr/bin/python3 scripts/test_run_notebooks.py   (or `make test-runner`)

The end-to-end tests need Jupyter and GoNB (`make setup`). Without them they are skipped with a
message, except when CI=true: then they fail, so CI can never pass without running them.
"""

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TESTDATA = os.path.join(ROOT, "notebooks", "testdata")
RUNNER = os.path.join(HERE, "run_notebooks.py")
PYTHON = "/usr/bin/python3"
sys.path.insert(0, HERE)
import run_notebooks  # noqa: E402


def missing_prerequisites():
    """Why the end-to-end tests cannot run here, or None."""
    if not os.path.exists(PYTHON):
        return f"{PYTHON} not found"
    probe = subprocess.run([PYTHON, "-c", "import nbclient, nbconvert, nbformat"], capture_output=True)
    if probe.returncode != 0:
        return "Debian's Jupyter packages are not installed"
    try:
        dirs = run_notebooks.go_bin_dirs()
    except SystemExit as e:
        return str(e)
    if not any(os.access(os.path.join(d, "gonb"), os.X_OK) for d in dirs):
        return "gonb is not installed"
    kernels = subprocess.run(["/usr/bin/jupyter", "kernelspec", "list"], capture_output=True, text=True)
    if "gonb" not in kernels.stdout:
        return "the gonb Jupyter kernel is not registered"
    return None


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def run(*args, env=None):
    e = dict(os.environ, BLOCKREC_SCALE="smoke")
    e.pop("BLOCKREC_CELL_TIMEOUT", None)
    e.update(env or {})
    return subprocess.run([PYTHON, RUNNER, *args], capture_output=True, text=True, env=e, cwd=ROOT, timeout=600)


class EndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = missing_prerequisites()
        if why:
            msg = f"{why}: run `make setup` (scripts/install.sh) to run the notebook runner tests"
            if os.environ.get("CI") == "true":
                raise AssertionError("CI=true, so not skipping: " + msg)
            raise unittest.SkipTest(msg)

    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="runner-test-")
        self.addCleanup(shutil.rmtree, self.out)

    def run_testdata(self, name):
        return run("--out", self.out, os.path.join(TESTDATA, name + ".ipynb"))

    def assert_fails_at(self, name, cell, *phrases):
        r = self.run_testdata(name)
        self.assertEqual(r.returncode, 1, f"runner passed a broken notebook:\n{r.stdout}\n{r.stderr}")
        fail_lines = [line for line in r.stderr.splitlines() if line.startswith("FAIL ")]
        self.assertEqual(len(fail_lines), 1, r.stderr)
        line = fail_lines[0]
        self.assertIn(name + ".ipynb", line)
        self.assertIn(f"cell {cell}:", line)
        for p in phrases:
            self.assertIn(p, line)
        self.assertIn("FAILED", r.stdout)
        # Stopped at the failing cell: the cell after it (which prints MUST NOT RUN) never ran.
        nb = json.loads(read(os.path.join(self.out, name + ".ipynb")))
        self.assertEqual(nb["cells"][cell + 1]["outputs"], [], "a cell after the failure ran")
        return line

    def test_good_notebook_passes_and_saves_outputs(self):
        r = self.run_testdata("ok")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ok.ipynb", r.stdout)
        self.assertIn("all 1 notebook(s) passed", r.stdout)
        nb = json.loads(read(os.path.join(self.out, "ok.ipynb")))
        texts = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
        self.assertIn("hello from ok.ipynb", texts)
        self.assertIn("shell ok", texts)
        html = read(os.path.join(self.out, "ok.html"))
        self.assertIn("hello from ok.ipynb", html)

    def test_compile_error_fails(self):
        self.assert_fails_at("compile_error", 1, "compile error", "cannot use")

    def test_panic_fails(self):
        self.assert_fails_at("panic", 1, "panic: deliberate panic in testdata/panic.ipynb")

    def test_failed_shell_line_fails(self):
        self.assert_fails_at("shell_fail", 1, "!false", "exit status 1")

    def test_invalid_json_fails_with_one_line(self):
        r = self.run_testdata("invalid_json")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        fails = [line for line in r.stderr.splitlines() if line.startswith("FAIL ")]
        self.assertEqual(len(fails), 1, r.stderr)
        self.assertIn("invalid_json.ipynb", fails[0])
        self.assertIn("not valid JSON", fails[0])
        self.assertNotIn("Traceback", r.stderr)

    def test_one_failure_fails_the_run_but_others_still_run(self):
        r = run("--out", self.out, os.path.join(TESTDATA, "panic.ipynb"), os.path.join(TESTDATA, "ok.ipynb"))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.out, "ok.html")), "ok.ipynb did not run after a failure")
        self.assertIn("1 of 2 notebook(s) FAILED", r.stdout)


    def test_fail_fast_from_the_environment(self):
        r = run("--out", self.out, os.path.join(TESTDATA, "panic.ipynb"), os.path.join(TESTDATA, "ok.ipynb"),
                env={"FAIL_FAST": "1"})
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.out, "ok.html")), "FAIL_FAST=1 ran the next notebook")
        self.assertIn("1 notebook(s) not run", r.stderr)

    def test_progress_names_cells_and_streams_output(self):
        r = self.run_testdata("ok")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"\[1/1\] ok cell 1 \(code 1/2\): fmt.Println")
        self.assertIn("hello from ok.ipynb", r.stderr, "the cell's output was not streamed to the terminal")
        timings = json.loads(read(os.path.join(self.out, "timings.json")))
        self.assertGreater(timings["smoke"]["ok"], 0)
        again = self.run_testdata("ok")
        self.assertRegex(again.stderr, r"expected time at smoke: \S+ \(last run's times\)")
        self.assertRegex(again.stderr, r"run ETA ~\S+ \(last run's times\)")

    def test_signal_stops_everything(self):
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            with self.subTest(signal=sig.name):
                e = dict(os.environ, BLOCKREC_SCALE="smoke")
                proc = subprocess.Popen([PYTHON, RUNNER, "--out", self.out, os.path.join(TESTDATA, "sleep.ipynb"),
                                         os.path.join(TESTDATA, "ok.ipynb")],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e, cwd=ROOT)
                seen, deadline = "", time.monotonic() + 300
                while time.monotonic() < deadline:
                    line = proc.stderr.readline()
                    seen += line
                    # The progress line quotes the cell's source ("sleeping: pid %d"): wait for the output.
                    if not line or re.search(r"sleeping: pid \d+", line):
                        break
                m = re.search(r"sleeping: pid (\d+), TMPDIR (\S+)", seen)
                self.assertIsNotNone(m, f"the sleeping cell never reported (streaming broken?):\n{seen}")
                pid, tmpdir = int(m.group(1)), m.group(2)
                sent = time.monotonic()
                proc.send_signal(sig)
                try:
                    out, err = proc.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    self.fail(f"{sig.name}: the runner still ran 30 s after the signal")
                took = time.monotonic() - sent
                self.assertEqual(proc.returncode, code, err)
                self.assertLess(took, 15, f"{sig.name}: took {took:.1f} s to stop")
                self.assertIn(f"stopped by {sig.name}", err)
                self.assertFalse(os.path.exists(f"/proc/{pid}") and "zombie" not in read(f"/proc/{pid}/status").lower(),
                                 f"the cell's program (pid {pid}) survived {sig.name}")
                self.assertFalse(os.path.exists(tmpdir), f"the run's temporary folder {tmpdir} was left behind")
                self.assertFalse(os.path.exists(os.path.join(self.out, "ok.html")), "the next notebook started")


class Offline(unittest.TestCase):
    """Checks that need no kernel."""

    def test_bad_scale_is_a_usage_error(self):
        r = run(os.path.join(TESTDATA, "ok.ipynb"), env={"BLOCKREC_SCALE": "huge"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("'huge'", r.stderr)

    def test_missing_file_is_a_usage_error(self):
        r = run(os.path.join(TESTDATA, "no_such.ipynb"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("no_such.ipynb", r.stderr)

    def test_out_that_is_a_file_is_a_usage_error(self):
        with tempfile.NamedTemporaryFile(suffix=".txt") as f:
            r = run("--out", f.name, os.path.join(TESTDATA, "ok.ipynb"))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertNotIn("Traceback", r.stderr)
            self.assertIn(f"--out {f.name}: exists and is not a directory", r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    def test_out_never_overwrites_an_input_notebook(self):
        src = tempfile.mkdtemp(prefix="runner-src-")
        self.addCleanup(shutil.rmtree, src)
        nb = os.path.join(src, "ok.ipynb")
        shutil.copy(os.path.join(TESTDATA, "ok.ipynb"), nb)
        before = read(nb)
        for out in (src, os.path.join(src, ".")):
            r = run("--out", out, nb)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("would overwrite the input notebook", r.stderr)
            self.assertEqual(read(nb), before, "the input notebook was modified")

    def test_out_dir_problem(self):
        d = tempfile.mkdtemp(prefix="runner-out-")
        self.addCleanup(shutil.rmtree, d)
        nb = os.path.join(d, "a.ipynb")
        with open(nb, "w") as f:
            f.write("{}")
        for out, paths, want in [
            (os.path.join(d, "new"), [nb], None),  # created later
            (d, [nb], "would overwrite the input notebook"),
            (nb, [nb], "exists and is not a directory"),
            (os.path.join(d, "new"), [nb, os.path.join(d, "new", "a.ipynb")], "would overwrite the input notebook"),
        ]:
            got = run_notebooks.out_dir_problem(out, paths)
            if want is None:
                self.assertIsNone(got, (out, paths))
            else:
                self.assertIn(want, got or "", (out, paths))

    def test_default_notebooks_skip_testdata(self):
        root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, root)
        os.makedirs(os.path.join(root, "notebooks", "testdata"))
        for name in ("notebooks/10_b.ipynb", "notebooks/02_a.ipynb", "notebooks/testdata/x.ipynb", "notebooks/notes.md"):
            open(os.path.join(root, name), "w").close()
        got = [os.path.relpath(p, root) for p in run_notebooks.default_notebooks(root)]
        self.assertEqual(got, ["notebooks/02_a.ipynb", "notebooks/10_b.ipynb"])
        self.assertFalse(any("testdata" in p for p in run_notebooks.default_notebooks()))

    def test_shell_failure_detection(self):
        def cell(*stderr):
            return {"outputs": [{"output_type": "stream", "name": "stderr", "text": t} for t in stderr]}
        run_notebooks.check_shell_lines(cell("exit status 0\n", "fine\n"), 0)
        run_notebooks.check_shell_lines(cell("the exit status 3 was expected\n"), 0)  # not a whole line
        for bad in (cell("exit status 1\n"), cell("x\n", "\x1b[31mexit status 127\x1b[0m\n")):
            with self.assertRaises(run_notebooks.ShellLineFailed):
                run_notebooks.check_shell_lines(bad, 0)

    def test_error_line_prefers_panic_then_compiler_message(self):
        panic_cell = {"outputs": [
            {"output_type": "stream", "name": "stderr", "text": "panic: boom\n\ngoroutine 1\nexit status 2\n"},
            {"output_type": "error", "ename": "ERROR", "evalue": "exit status 2", "traceback": []}]}
        self.assertEqual(run_notebooks.error_line(panic_cell), "panic: boom")
        compile_cell = {"outputs": [{"output_type": "error", "ename": "ERROR",
                                     "evalue": "# gonb_1\n./main.go:3:2: undefined: x\n", "traceback": []}]}
        self.assertEqual(run_notebooks.error_line(compile_cell), "compile error: ./main.go:3:2: undefined: x")

    def test_fmt_time(self):
        for seconds, want in ((0, "0s"), (59.4, "59s"), (61, "1m01s"), (3599, "59m59s"), (3600, "1h00m"), (7322, "2h02m")):
            self.assertEqual(run_notebooks.fmt_time(seconds), want)

    def test_timings_round_trip_per_scale(self):
        out = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, out)
        self.assertEqual(run_notebooks.read_timings(out), {})
        run_notebooks.record_timing(out, "cpu", "01_cifar100", 123.44)
        run_notebooks.record_timing(out, "smoke", "01_cifar100", 9)
        run_notebooks.record_timing(out, "cpu", "00_environment", 5)
        self.assertEqual(run_notebooks.read_timings(out),
                         {"cpu": {"01_cifar100": 123.4, "00_environment": 5}, "smoke": {"01_cifar100": 9}})
        with open(os.path.join(out, "timings.json"), "w") as f:
            f.write("{broken")
        self.assertEqual(run_notebooks.read_timings(out), {})

    def test_expected_times_prefer_this_checkout_then_the_reference(self):
        names = ["00_environment", "01_cifar100", "02_dinov2"]
        cases = [
            ({}, {}, [None, None, None], ""),
            ({"01_cifar100": 100}, {}, [None, 100, None], "last run's times"),
            ({}, {"00_environment": 10, "01_cifar100": 7000, "02_dinov2": 300}, [10, 7000, 300], "reference times"),
            ({"01_cifar100": 60}, {"00_environment": 10, "01_cifar100": 7000}, [10, 60, None],
             "last run's times and reference times"),
            ({"00_environment": "fast", "01_cifar100": -1}, {"00_environment": True, "02_dinov2": 5}, [None, None, 5],
             "reference times"),
            ({"00_environment": float("inf"), "01_cifar100": float("nan")}, {}, [None, None, None], ""),
            ({}, "not a table", [None, None, None], ""),
        ]
        for last, reference, want, source in cases:
            self.assertEqual(run_notebooks.expected_times(names, last, reference), (want, source), (last, reference))

    def test_progress_eta_counts_from_the_notebook_start(self):
        out = io.StringIO()
        p = run_notebooks.Progress(out=out, silence=3600, eta_every=0.2, tick=0.02)
        self.assertEqual(p.eta(), "", "no ETA without expected times")
        p.start_notebook(100, None, "reference times")
        self.assertEqual(p.eta(), "", "no ETA while a later notebook's time is unknown")
        p.start_notebook(60, 40, "reference times")
        p.notebook_start -= 30  # the notebook started 30 s ago; the Progress itself earlier
        self.assertRegex(p.eta(), r"^, run ETA ~1m(10|09|08)s \(reference times\)$")
        p.where = "[2/5] 01_cifar100 cell 5"
        with p:  # a long cell that prints all the time still gets the run's ETA now and then
            deadline = time.monotonic() + 1
            while time.monotonic() < deadline or out.getvalue().count("ETA") < 2 and time.monotonic() < deadline + 10:
                p.write("step\n")
                time.sleep(0.02)
        lines = [line for line in out.getvalue().splitlines() if line != "step"]
        self.assertGreaterEqual(len(lines), 2, out.getvalue())
        for line in lines:
            self.assertRegex(line, r"^run_notebooks: \[2/5\] 01_cifar100 cell 5: (3\d|40)s in this notebook, "
                                   r"run ETA ~(1m0\ds|1m10s) \(reference times\)$")

    def test_progress_eta_of_a_notebook_over_its_time(self):
        p = run_notebooks.Progress(out=io.StringIO())
        p.start_notebook(10, 50, "last run's times")
        p.notebook_start -= 130  # 2 minutes over
        self.assertRegex(p.eta(), r"^, run ETA ~50s \(last run's times; this notebook is 2m0\ds over its expected 10s\)$")

    def test_progress_heartbeat_in_silence_counts_from_the_notebook_start(self):
        out = io.StringIO()
        p = run_notebooks.Progress(out=out, silence=0.1, eta_every=0, tick=0.02)
        p.start_notebook(None, None, "")
        p.notebook_start -= 125
        p.where = "[3/5] 02_dinov2 cell 3"
        with p:
            deadline = time.monotonic() + 10
            while "still running" not in out.getvalue() and time.monotonic() < deadline:
                time.sleep(0.05)
        self.assertRegex(out.getvalue(), r"still running \[3/5\] 02_dinov2 cell 3 \(2m\d\ds in this notebook\)\n")
        self.assertNotIn("ETA", out.getvalue())

    def test_reference_timings_name_real_notebooks_and_are_used(self):
        ref = run_notebooks.read_reference_timings()
        self.assertTrue(ref.get("about"), "reference_timings.json says what it was measured on")
        names = {os.path.splitext(os.path.basename(p))[0] for p in run_notebooks.default_notebooks()}
        scales = [k for k in ref if k != "about"]
        self.assertTrue(scales, "no scale in reference_timings.json")
        for scale in scales:
            self.assertIn(scale, ("smoke", "cpu", "paper"))
            self.assertTrue(ref[scale], f"no times at {scale}")
            for name, seconds in ref[scale].items():
                self.assertIn(name, names, f"reference_timings.json times {name!r}, which is not a notebook")
                self.assertIsInstance(seconds, (int, float))
                self.assertGreater(seconds, 0, name)
            times, source = run_notebooks.expected_times(sorted(ref[scale]), {}, ref[scale])
            self.assertNotIn(None, times)
            self.assertEqual(source, "reference times")
        # make notebooks runs at cpu by default: a fresh clone's first run gets an ETA for all of it.
        self.assertEqual(sorted(ref.get("cpu", {})), sorted(names), "reference times at cpu cover every notebook")
        missing = os.path.join(tempfile.mkdtemp(), "none.json")
        self.assertEqual(run_notebooks.read_reference_timings(missing), {})

    def test_kill_tree_kills_every_descendant(self):
        # A process in a session of its own whose children sit in yet another group.
        proc = subprocess.Popen(["bash", "-c", "sleep 300 & setsid sleep 301 & wait"], start_new_session=True)
        deadline = time.monotonic() + 10
        while len(run_notebooks.descendants(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        kids = run_notebooks.descendants(proc.pid)
        self.assertGreaterEqual(len(kids), 2, "the test's process tree did not start")
        run_notebooks.kill_tree(proc.pid)
        proc.wait(timeout=5)
        time.sleep(0.2)
        for kid in kids:
            alive = os.path.exists(f"/proc/{kid}") and "zombie" not in read(f"/proc/{kid}/status").lower()
            self.assertFalse(alive, f"descendant {kid} survived kill_tree")


class CommittedNotebooks(unittest.TestCase):
    """The notebooks make notebooks runs are valid nbformat 4.5: every cell has an id, so nbformat
    prints no MissingIDFieldWarning into the run's output (a cell added without one did)."""

    CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

    def test_every_cell_has_a_unique_valid_id(self):
        paths = run_notebooks.default_notebooks()
        self.assertTrue(paths, "no notebooks found")
        for path in paths:
            nb = json.loads(read(path))
            self.assertGreaterEqual((nb["nbformat"], nb["nbformat_minor"]), (4, 5), path)
            ids = [c.get("id") for c in nb["cells"]]
            for i, cid in enumerate(ids):
                self.assertTrue(cid and self.CELL_ID.match(cid), f"{path}: cell {i + 1} has no valid id ({cid!r})")
            self.assertEqual(len(set(ids)), len(ids), f"{path}: cell ids repeat")

    def test_validate_gives_no_warning(self):
        try:
            import nbformat
        except ImportError:
            self.skipTest("nbformat is not installed for this Python")
        import warnings
        for path in run_notebooks.default_notebooks():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                nbformat.validate(nbformat.reads(read(path), as_version=4))
            self.assertEqual([str(w.message)[:120] for w in caught], [], path)


if __name__ == "__main__":
    unittest.main(verbosity=2)
