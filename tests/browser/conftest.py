"""Fixtures for the real-browser tests: Voila / JupyterLab on 127.0.0.1 and headless Chromium.

The recipe follows ../shared/notes/browser-testing.md (measured on these machines):
Debian's /usr/bin/chromium driven by Playwright-Python (never ``playwright install``),
servers bound to the loopback interface, waiting on the dashboard's CSS classes
(docs/ARCHITECTURE.md), DOM clicks for buttons and the keyboard for sliders.

Every process started here is stopped in the fixture's teardown, kernels included (they run
in their own sessions, so they are found as children of the server and ended by pid).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kernel_stacks
import pytest

from .app_notebook import STACKS_FILE, write_app_notebook

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("DLGENE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOOPBACK = "127.0.0.1"
LOCAL_PREFIXES = (f"http://{LOOPBACK}:", f"ws://{LOOPBACK}:", "data:", "blob:", "about:")
# Voila's own page templates (lab and classic) link Font Awesome from jsdelivr. That is
# Voila's, not dlgene's; the audit lists it as known and the browser never fetches it.
VOILA_TEMPLATE_CDN = ("https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@",)
SCREENSHOTS = REPO / "docs" / "screenshots"


def _missing(reason: str) -> None:
    """Skip on a developer machine; fail in CI, where the browser stack must be present."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def chromium_version() -> str:
    out = subprocess.run(
        [str(CHROMIUM), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    return out.stdout.strip() or out.stderr.strip()


def pytest_report_header(config: pytest.Config) -> str:
    if CHROMIUM.exists():
        return f"chromium: {chromium_version()} ({CHROMIUM})"
    return f"chromium: not found at {CHROMIUM}"


# ---------------------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


@dataclass
class Server:
    """A server process bound to 127.0.0.1 and the page a browser opens on it."""

    name: str
    proc: subprocess.Popen
    port: int
    url: str
    log: Path
    root: Path

    def log_tail(self) -> str:
        return _tail(self.log)


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as exc:  # e.g. 403 before a token: it is up
            if exc.code < 500:
                return
            last = str(exc)
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.3)
    raise RuntimeError(f"server at {url} not up after {timeout:.0f} s ({last}):\n{_tail(log)}")


def stop_process_tree(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the server (it shuts its kernels down), then end any leftover child by pid."""
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    _gone, alive = psutil.wait_procs(children, timeout=5)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(alive, timeout=5)


@contextlib.contextmanager
def run_server(
    name: str, cmd: list[str], cwd: Path, env: dict[str, str], probe: str, timeout: float
) -> Iterator[tuple[subprocess.Popen, Path]]:
    log = cwd / f"{name}-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_http(probe, proc, log, timeout)
        yield proc, log
    finally:
        stop_process_tree(proc)


LAB_SETTINGS = {  # no "get Jupyter news?" toast over the page
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}


def server_env(root: Path) -> dict[str, str]:
    """Isolated Jupyter dirs (no user settings or workspaces leak in) and the data folder."""
    env = dict(os.environ)
    jupyter = root / ".jupyter-home"
    for name, values in LAB_SETTINGS.items():
        path = jupyter / "lab-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env.update(
        JUPYTER_CONFIG_DIR=str(jupyter / "config"),
        JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(jupyter / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(jupyter / "lab-workspaces"),
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    shared = REPO.parent / "shared" / "data"
    if "DLGENE_DATA_DIR" not in env and shared.exists():
        env["DLGENE_DATA_DIR"] = str(shared)
    return env


def start_voila(notebook: Path, root: Path) -> contextlib.AbstractContextManager:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={LOOPBACK}",
        "--VoilaConfiguration.show_tracebacks=True",
    ]
    url = f"http://{LOOPBACK}:{port}/"
    return _served("voila", cmd, root, url, f"{url}api/kernels", port, timeout=90)


def start_lab(notebook: Path, root: Path) -> contextlib.AbstractContextManager:
    port = free_port()
    token = secrets.token_hex(16)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        f"--ServerApp.ip={LOOPBACK}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.extension_manager=readonly",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    base = f"http://{LOOPBACK}:{port}/"
    url = f"{base}lab/tree/{notebook.relative_to(root).as_posix()}?token={token}"
    return _served("lab", cmd, root, url, f"{base}api/status?token={token}", port, timeout=120)


@contextlib.contextmanager
def _served(
    name: str, cmd: list[str], root: Path, url: str, probe: str, port: int, timeout: float
) -> Iterator[Server]:
    with run_server(name, cmd, root, server_env(root), probe, timeout) as (proc, log):
        yield Server(name=name, proc=proc, port=port, url=url, log=log, root=root)


# ---------------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def chromium(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright (skips, or fails under CI, if absent)."""
    if not CHROMIUM.exists():
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright (Python) is not installed; pip install playwright==1.65.2")
    version = chromium_version()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"browser tests use {version} at {CHROMIUM}")
    print(f"chromium --version: {version}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Requests:
    """Every request the page made (for the loopback-only audit)."""

    urls: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)

    def external(self) -> list[str]:
        seen = [*self.urls, *self.websockets]
        return sorted({u for u in seen if not u.startswith(LOCAL_PREFIXES)})


def evaluate_within(page: Any, js_function: str, seconds: float) -> Any:
    """``page.evaluate`` with a deadline: a frozen page raises instead of hanging the run.

    ``page.evaluate`` has no timeout of its own; ``wait_for_function`` does, and Playwright
    enforces it outside the page. The result is wrapped so that falsy values count too.
    """
    handle = page.wait_for_function(
        f"() => ({{value: ({js_function})()}})", timeout=seconds * 1000, polling=100
    )
    return handle.json_value()["value"]


@dataclass
class App:
    """One dashboard page in a browser, with the kernel-side event log the notebook writes."""

    frontend: str
    server: Server
    page: Any
    events_path: Path
    run_dir: Path
    requests: Requests
    console: list[str]

    # -- kernel-side state (JSON lines the app notebook appends) -------------------
    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        if not self.events_path.exists():
            return []
        rows = []
        for line in self.events_path.read_text().splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                rows.append(json.loads(line))
        return [r for r in rows if kind is None or r["kind"] == kind]

    def wait_event(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float,
        what: str,
        after: int = 0,
    ) -> dict[str, Any]:
        """The first event (from index ``after``) matching ``predicate``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for row in self.events()[after:]:
                if predicate(row):
                    return row
            time.sleep(0.2)
        raise AssertionError(
            f"{self.frontend}: no kernel event {what} within {timeout:.0f} s; last events: "
            f"{self.events()[-8:]}\nkernel threads:\n{self.kernel_stacks()}"
            f"\nserver log:\n{self.server.log_tail()[-2000:]}"
        )

    def kernel_stacks(self) -> str:
        """Every kernel thread's stack (the app notebook dumps them on SIGUSR1)."""
        ready = self.events("ready")
        if not ready:
            return "(no kernel pid: the app never got ready)"
        problem = kernel_stacks.request(ready[-1]["pid"])
        if problem:
            return problem
        time.sleep(1.0)  # the kernel writes the dump from its signal handler
        return kernel_stacks.read(self.events_path.with_name(STACKS_FILE))

    # -- page helpers ------------------------------------------------------------------
    def click(self, selector: str) -> None:
        """A DOM click: Playwright's stability check stalls while charts redraw (notes, D).

        It waits until the element is enabled: a job's end enables the buttons a moment
        after its last kernel event, and a click on a still-disabled button is lost.
        """
        handle = self.page.wait_for_selector(selector, state="attached", timeout=30_000)
        handle.wait_for_element_state("enabled", timeout=30_000)
        handle.evaluate("el => el.click()")

    def text(self, selector: str) -> str:
        return str(self.page.eval_on_selector(selector, "el => el.innerText"))

    def diagnose(self) -> str:
        """What to read when a wait fails: page text, console, kernel events, server log."""
        try:
            body = str(evaluate_within(self.page, "() => document.body.innerText", 10))[-3000:]
        except Exception as exc:  # the page itself may be gone, or frozen
            body = f"<no page text: {exc}>"
        return (
            f"--- {self.frontend} page text (tail) ---\n{body}\n"
            f"--- console (tail) ---\n" + "\n".join(self.console[-30:]) + "\n"
            f"--- kernel events (tail) ---\n{self.events()[-10:]}\n"
            f"--- server log (tail) ---\n{self.server.log_tail()[-3000:]}"
        )

    def wait_for(self, selector: str, timeout: float = 60, state: str = "attached") -> Any:
        try:
            return self.page.wait_for_selector(selector, state=state, timeout=timeout * 1000)
        except Exception as exc:
            raise AssertionError(
                f"{selector} not {state} after {timeout} s\n{self.diagnose()}"
            ) from exc

    def screenshot(self, name: str) -> Path | None:
        if os.environ.get("DLGENE_WRITE_SCREENSHOTS") != "1":
            return None
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / name
        self.page.wait_for_timeout(1500)  # let bqplot finish its transitions
        if self.frontend == "lab":  # the notebook panel scrolls inside Lab: shoot the panel
            self.page.locator(".jp-NotebookPanel").first.screenshot(path=str(target))
        else:
            self.page.locator(".dlgene-dashboard").first.screenshot(path=str(target))
        return target


def _open_voila(page: Any, server: Server) -> None:
    page.goto(server.url, timeout=120_000, wait_until="domcontentloaded")


LAB_READY = """async () => {
    const timeout = new Promise((_, reject) =>
        setTimeout(() => reject(new Error('JupyterLab did not start in 120 s')), 120000));
    await Promise.race([
        Promise.all([window.jupyterapp.started, window.jupyterapp.restored]), timeout]);
    return true;
}"""


def lab_kernel_function(body: str, prefix: str = "() =>") -> str:
    """A page function whose ``body`` sees the notebook panel in front (w) and its kernel (k)."""
    return (
        f"{prefix} {{\n"
        "    const w = window.jupyterapp.shell.currentWidget;\n"
        "    const k = w && w.sessionContext && w.sessionContext.session\n"
        "        && w.sessionContext.session.kernel;\n"
        f"{body}\n}}"
    )


LAB_KERNEL_IDLE = lab_kernel_function("    return !!k && k.status === 'idle';")
# An empty silent request settles only when its 'idle' status comes back on IOPub, so a
# settled probe proves IOPub delivers before the cell runs. A guard, not a proven cause: the
# stall of CI stop 7 that was caught in the act here was the widget-model race that
# dlgene_widgets/_retire.py fixes; a lost IOPub message would look the same from outside.
LAB_IOPUB_PROBE = lab_kernel_function(
    """    const future = k.requestExecute({code: '', silent: true, store_history: false});
    const late = new Promise(resolve => setTimeout(() => resolve(false), 5000));
    return await Promise.race([future.done.then(() => true), late]);""",
    prefix="async () =>",
)
LAB_IOPUB_PROBES = 12
# Fired, not awaited: the command's promise waits on every IOPub message of the run. The
# proof that the cell ran is the kernel's own 'ready' line; that Lab rendered it, the panel.
LAB_RUN_ALL = """() => {
    window.jupyterapp.commands.execute('notebook:run-all-cells')
        .catch(e => console.error('notebook:run-all-cells failed: ' + e));
    return true;
}"""
LAB_STATE = lab_kernel_function("""    return {
        widget: w ? w.title.label : null,
        kernel: k ? k.status : null,
        connection: k ? k.connectionStatus : null,
        dialogs: [...document.querySelectorAll('.jp-Dialog')].map(d => d.innerText),
    };""")
LAB_RESTART_KERNEL = lab_kernel_function(
    "    await w.sessionContext.restartKernel();\n    return true;", prefix="async () =>"
)
LAB_RUN_TIMEOUT_S = 45
LAB_RUN_ATTEMPTS = 3


def _run_lab_notebook(app: App) -> int:
    """Run the notebook's cell once IOPub provably delivers; the number of probes lost."""
    page = app.page
    page.wait_for_function(LAB_KERNEL_IDLE, timeout=120_000, polling=250)
    for lost in range(LAB_IOPUB_PROBES):
        if page.evaluate(LAB_IOPUB_PROBE):
            page.evaluate(LAB_RUN_ALL)
            return lost
    raise AssertionError(
        f"Lab's kernel never answered on IOPub ({LAB_IOPUB_PROBES} probes of 5 s)\n{app.diagnose()}"
    )


def _open_lab(app: App) -> None:
    """Open the notebook in Lab, run its cell and wait for the dashboard; recover, loudly.

    Success is the kernel's 'ready' line and the dashboard in the page. If the cell never ran
    (no 'ready', kernel idle) it is run again; otherwise the kernel is restarted first, so no
    second dashboard can join the first. Each recovery warns with Lab's state; the third stall
    fails with the page's, the kernel's and the server's state.
    """
    page = app.page
    page.goto(app.server.url, timeout=120_000, wait_until="domcontentloaded")
    page.wait_for_function("() => !!window.jupyterapp", timeout=120_000)
    page.evaluate(LAB_READY)
    for attempt in range(1, LAB_RUN_ATTEMPTS + 1):
        before = len(app.events())
        lost = _run_lab_notebook(app)
        try:
            app.wait_event(
                lambda e: e["kind"] == "ready", LAB_RUN_TIMEOUT_S, "'ready'", after=before
            )
            app.wait_for(".dlgene-dashboard .dlgene-btn-spawn", timeout=LAB_RUN_TIMEOUT_S)
            return
        except AssertionError as exc:
            try:
                state = evaluate_within(page, LAB_STATE, 10)
            except Exception as frozen:
                raise AssertionError(f"{exc}\nLab page frozen ({frozen})") from exc
            state["iopub_probes_lost"] = lost
            if attempt == LAB_RUN_ATTEMPTS:
                raise AssertionError(f"{exc}\nLab state: {state}") from exc
            ran = any(e["kind"] == "ready" for e in app.events()[before:])
            never_ran = state["kernel"] == "idle" and not ran
            recovery = "running it" if never_ran else "restarting the kernel and running it"
            warnings.warn(
                f"JupyterLab showed no dashboard within {LAB_RUN_TIMEOUT_S} s (cell ran: "
                f"{ran}; state: {state}); {recovery} again\n"
                f"console tail: {app.console[-10:]}",
                stacklevel=1,
            )
            for _ in state["dialogs"]:
                page.keyboard.press("Escape")
            if not never_ran:
                page.evaluate(LAB_RESTART_KERNEL)
                # The notebook creates the clade's folder, and a clade refuses an existing one.
                shutil.rmtree(app.run_dir, ignore_errors=True)


@contextlib.contextmanager
def served_app(
    chromium: Any, root: Path, frontend: str, config_source: str | None = None
) -> Iterator[App]:
    """The app notebook (``config_source``: its clade config, default the 4-model one)
    served by ``frontend`` and opened in a fresh browser context."""
    events = root / "events.jsonl"
    run_dir = root / "runs" / "browser-clade"
    notebook = write_app_notebook(root / "dashboard_app.ipynb", events, run_dir, config_source)
    start = start_voila if frontend == "voila" else start_lab
    with start(notebook, root) as server:
        context = chromium.new_context(viewport={"width": 1400, "height": 2400})
        requests = Requests()
        console: list[str] = []
        context.on("request", lambda r: requests.urls.append(r.url))
        # Nothing may leave the machine: every non-loopback request is aborted (and audited).
        context.route(lambda url: not url.startswith(LOCAL_PREFIXES), lambda r: r.abort())
        context.on("requestfailed", lambda r: requests.failed.append(r.url))
        page = context.new_page()
        page.on("websocket", lambda ws: requests.websockets.append(ws.url))
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.set_default_timeout(60_000)
        app = App(frontend, server, page, events, run_dir, requests, console)
        try:
            if frontend == "voila":
                _open_voila(page, server)
            else:
                _open_lab(app)
            yield app
        finally:
            context.close()
    shutil.rmtree(root / ".jupyter-home", ignore_errors=True)


@pytest.fixture(scope="module", params=["voila", "lab"])
def app(
    request: pytest.FixtureRequest, chromium: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[App]:
    """The dashboard notebook served by Voila or JupyterLab and opened in Chromium.

    Module-scoped and parametrized, so pytest runs every test of the module against Voila,
    stops that server, then does the same against JupyterLab: one server and one kernel at
    a time on the 2-core machine.
    """
    frontend: str = request.param
    root = tmp_path_factory.mktemp(f"browser-{frontend}")
    with served_app(chromium, root, frontend) as app:
        yield app
