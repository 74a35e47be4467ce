"""CladeDashboard: every panel of a clade in one layout, with the buttons that drive it.

Jobs (spawn, grow, select, breed, evolve) run on a worker thread so the kernel keeps
answering sliders and the stop button during training. A failed job's error is shown in
the status line and raised again by ``wait()``; it is never swallowed.
"""

from __future__ import annotations

import html
import threading
import traceback
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Unicode

from dlgene_core import Clade

from ._hints import error
from ._panel import Panel
from ._throttle import TRAINING, Throttle, when_idle
from .analysis import Analysis
from .config_editor import ConfigEditor
from .generation_views import GenerationViews
from .growth_plot import GrowthPlot
from .parent_picker import ParentPicker
from .population_grid import PopulationGrid
from .selection import ModelSelection
from .selection_links import link_selection, selection_style

SIDECAR_HELP = (
    "the 'sidecar' package is not installed; in JupyterLab right-click the dashboard's output "
    "and choose 'Create New View for Output' to dock it in a side panel, or pip install sidecar"
)


JOB_STATES = {
    "spawn": "spawning",
    "grow": "growing",
    "select": "selecting",
    "breed": "breeding",
    "evolve": "evolving",
}


LIVE_THROTTLES = ("growth-plot", "status-line")  # not split: the live curves get half


class JobError(RuntimeError):
    """A dashboard job (spawn, grow, ...) failed; the original error is the cause."""


class CladeDashboard(Panel):
    """All panels of one clade, with spawn / grow / select / breed / evolve N / stop."""

    job = Unicode("", help="name of the job running now ('' when idle)")
    running = Bool(False, help="a job is running on the worker thread")
    error = Unicode("", help="error of the last job, shown in the status line")

    def __init__(
        self,
        clade: Clade,
        executor: Any = None,
        max_points: int = 2000,
        max_rate_hz: float = 10.0,
        panel_rate_hz: float = 0.5,
        cpu_budget: float = 0.025,
    ):
        super().__init__()
        if not isinstance(clade, Clade):
            raise TypeError(f"clade: got {type(clade).__name__}; allowed: a dlgene_core Clade")
        if not 0 < cpu_budget <= 1:
            raise ValueError(f"cpu_budget={cpu_budget!r}; allowed: a share of one core in (0, 1]")
        self.clade = clade
        self.executor = executor
        self._thread: threading.Thread | None = None
        self._exception: BaseException | None = None
        self.last_traceback = ""
        self.selection = ModelSelection()  # one selected model for every panel
        # live curves at max_rate_hz; the panels that change once a model finishes redraw
        # at most panel_rate_hz (each redraw is 10-20 ms of pandas and widget sync, which on
        # 2 cores comes out of training); a job's end shows every panel's final state
        self.growth = GrowthPlot(
            clade, max_points=max_points, max_rate_hz=max_rate_hz, compare_rate_hz=panel_rate_hz
        )
        self.table = PopulationGrid(clade, self.selection, max_rate_hz=panel_rate_hz)
        self.analysis = Analysis(clade, self.selection, max_rate_hz=panel_rate_hz)
        self.parents = ParentPicker(clade, max_rate_hz=panel_rate_hz)
        self.views = GenerationViews(clade, max_rate_hz=panel_rate_hz)
        self.config_editor = ConfigEditor(clade.config, read_only=("kind",))
        self.buttons = {
            name: widgets.Button(description=label, icon=icon).add_class(f"dlgene-btn-{name}")
            for name, label, icon in (
                ("spawn", "spawn", "seedling"),
                ("grow", "grow", "play"),
                ("select", "select parents", "check"),
                ("breed", "breed", "code-branch"),
                ("evolve", "evolve", "forward"),
                ("stop", "stop", "stop"),
            )
        }
        self.buttons["stop"].button_style = "danger"
        self.evolve_n = widgets.BoundedIntText(
            value=1,
            min=1,
            max=10000,
            description="generations",
            layout=widgets.Layout(width="170px"),
        ).add_class("dlgene-evolve-n")
        self.status_line = widgets.HTML("").add_class("dlgene-status")
        actions: dict[str, Callable[[], Any]] = {
            "spawn": clade.spawn,
            "grow": lambda: clade.grow_models(executor=self.executor),
            "select": self.parents.use_parents,
            "breed": clade.breed,
            "evolve": lambda: clade.evolve(
                generations=self.evolve_target(), executor=self.executor
            ),
        }
        for name, action in actions.items():
            self.buttons[name].on_click(lambda _b, n=name, a=action: self.start_job(n, a))
        self.buttons["stop"].on_click(lambda _b: self.stop())
        b = self.buttons
        toolbar = widgets.HBox(
            [b["spawn"], b["grow"], b["select"], b["breed"], self.evolve_n, b["evolve"], b["stop"]],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        self.children = [
            widgets.HTML(
                f"<h3>dlgene: {html.escape(type(clade).__name__)} "
                f"<small>{html.escape(str(clade.store.path))}</small></h3>"
            ),
            toolbar,
            self.status_line,
            widgets.HBox([self.growth, self.parents], layout=widgets.Layout(flex_flow="row wrap")),
            self.table,
            self.analysis,
            self.views,
            selection_style(),
            widgets.Accordion(children=[self.config_editor], titles=("config",)),
        ]
        self.add_class("dlgene-dashboard")
        self._status_throttle = Throttle(
            self._show_status, 5.0, name="status-line", sync_on_main_thread=when_idle(clade)
        )
        self._names = ["status", "message", "progress", "generation"]
        clade.observe(self._on_clade_change, names=self._names)
        self.on_close(lambda: clade.unobserve(self._on_clade_change, names=self._names))
        self.on_close(self._status_throttle.close)
        panels = (self.growth, self.table, self.analysis, self.parents, self.views)
        for panel in (*panels, self.config_editor):
            self.on_close(panel.close)
        self.on_close(link_selection(self.selection, self.views, self.growth, self.parents))
        self.share_cpu_budget(cpu_budget)
        self._show_status()

    def share_cpu_budget(self, budget: float) -> None:
        """Split ``budget`` (a share of one core) over the panels' updates while training:
        half to the live curves, the rest evenly to the panels that redraw per finished
        model. A redraw that costs more then comes less often (see ``Throttle.cpu_share``),
        so however fast models finish or big the run grows, the dashboard takes about
        ``budget`` of the kernel's CPU from training."""
        others = [t for name, t in self.throttles().items() if name not in LIVE_THROTTLES]
        self.growth._throttle.cpu_share = budget / 2
        for throttle in others:
            throttle.cpu_share = budget / 2 / len(others)

    # ------------------------------------------------------------------ jobs
    def evolve_target(self) -> int:
        """``clade.evolve`` counts generations from 0: grow N more from here (the current one
        counts while it still has models to grow)."""
        current = self.clade.generation
        unfinished = self.clade.genotypes.empty or self.clade.progress[0] < len(
            self.clade.genotypes
        )
        return current + int(self.evolve_n.value) + (0 if unfinished else 1)

    def start_job(self, name: str, action: Callable[[], Any]) -> None:
        """Run ``action`` on a worker thread; buttons (but stop) are disabled until it ends."""
        if self.running:
            raise RuntimeError(f"start_job: {self.job!r} is still running; wait or press stop")
        self._exception = None
        self.error = ""
        self.job, self.running = name, True
        self._set_buttons_disabled(True)
        self._show_status()
        self._thread = threading.Thread(
            target=self._run_job, args=(name, action), name=f"dlgene-{name}", daemon=True
        )
        self._thread.start()

    def _run_job(self, name: str, action: Callable[[], Any]) -> None:
        try:
            action()
        except BaseException as exc:  # shown in the status line and re-raised by wait()
            self._exception = exc
            self.error = f"{name} failed: {type(exc).__name__}: {exc}"
            self.last_traceback = traceback.format_exc()
        finally:  # show the final state and leave no pending timer thread behind
            for throttle in self.throttles().values():
                throttle.flush_now()
            self.job, self.running = "", False
            self._set_buttons_disabled(False)
            self._show_status()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the running job ends; raise ``JobError`` if it failed."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                raise TimeoutError(f"wait: job {self.job!r} still running after {timeout} s")
        if self._exception is not None:
            exc, self._exception = self._exception, None
            raise JobError(self.error) from exc

    def stop(self) -> None:
        """End the current model cleanly; everything finished is kept."""
        self.clade.stop()
        self._show_status()

    def _set_buttons_disabled(self, disabled: bool) -> None:
        for name, button in self.buttons.items():
            if name != "stop":
                button.disabled = disabled
        self.evolve_n.disabled = disabled
        self.parents.use_button.disabled = disabled
        self.config_editor.apply_button.disabled = disabled
        self.config_editor.reset_button.disabled = disabled

    # ------------------------------------------------------------------ status line
    def _on_clade_change(self, change) -> None:
        self._status_throttle.request()
        if change["name"] == "status" and change["new"] not in TRAINING:
            for throttle in self.throttles().values():  # training paused or ended: show it
                throttle.flush_pending()

    def status_state(self) -> str:
        """What the status line leads with: the running job (the clade says "idle" until the
        job's first step begins, and between an evolve's steps), else the clade's state."""
        if not self.running:
            return self.clade.status
        state = JOB_STATES.get(self.job, self.job)
        if self.clade.status not in ("idle", state):
            state += f" ({self.clade.status})"  # e.g. "evolving (growing)"
        return state

    def _show_status(self) -> None:
        clade = self.clade
        done, total = clade.progress
        message = clade.message
        if not self.running and clade.genotypes.empty:  # a calm first step, not a blank
            message = f"{message} · press spawn to begin" if message else "press spawn to begin"
        text = (
            f"<b>{html.escape(self.status_state())}</b> &middot; generation {clade.generation} "
            f"&middot; {done}/{total} grown &middot; {html.escape(message)}"
        )
        if self.error:
            text += "<br>" + error(
                f"{self.error} (fix the cause and press the button again; the traceback is "
                "in dashboard.last_traceback)"
            )
        self.status_line.value = text

    def throttles(self) -> dict[str, Any]:
        """Every panel's update throttle by name (flush counts and busy time, for benchmarks)."""
        found = [
            self._status_throttle,
            self.growth._throttle,
            self.growth._options_throttle,
            self.table._throttle,
            self.parents._throttle,
            self.views._throttle,
            *self.analysis.throttles(),
        ]
        return {t.name: t for t in found}

    # ------------------------------------------------------------------ placement
    def show_in_sidecar(self, title: str = "dlgene") -> Any:
        """Show the dashboard in a JupyterLab side panel (needs the optional sidecar package)."""
        try:
            from sidecar import Sidecar
        except ImportError as exc:
            raise ImportError(SIDECAR_HELP) from exc
        from IPython.display import display

        panel = Sidecar(title=title)
        with panel:
            display(self)
        return panel
