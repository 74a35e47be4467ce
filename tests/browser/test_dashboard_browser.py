"""The dashboard in a real browser (headless Chromium) under Voila and JupyterLab.

The module-scoped ``app`` fixture (conftest.py) serves tests/browser/app_notebook.py's
notebook and opens it; the tests below run in order against one page per front end:
render -> spawn + grow (live curves, table rows) -> top-tier slider (preview text and the
kernel's selection) -> screenshot -> evolve N then stop -> (Lab) the dashboard in a
side panel -> network audit.
Assertions are on text and on kernel-side state (events.jsonl, the run folder), never pixels.
"""

from __future__ import annotations

import re
import time
import warnings

import pandas as pd
import pytest

from .conftest import VOILA_TEMPLATE_CDN, App
from .shoot_analysis import drag_brush

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]

POPULATION = 4  # app_notebook.py's population_size
FINISHED = ("ok", "timed_out", "diverged", "failed")

CURVE_POINTS = """() => {
    const paths = document.querySelectorAll('.dlgene-growth-fig svg path.line');
    let longest = 0;
    for (const p of paths) {
        const d = p.getAttribute('d') || '';
        const points = (d.match(/[ML]/g) || []).length;
        if (points > longest) longest = points;
    }
    return longest;
}"""
# Every painted frame's curve points, [seconds since the epoch, points], recorded in the page
# (a blank figure for one frame is what a person sees flicker; a 0.15 s poll missed most).
RECORD_FRAMES = """() => {
    window.__dlgeneFrames = [];
    window.__dlgeneStop = false;
    const count = CURVE_POINTS;
    const tick = () => {
        window.__dlgeneFrames.push([Date.now() / 1000, count()]);
        if (!window.__dlgeneStop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}""".replace("CURVE_POINTS", CURVE_POINTS)
STOP_FRAMES = "() => { window.__dlgeneStop = true; return window.__dlgeneFrames; }"
OVERVIEW_DOTS = ".dlgene-overview-fig svg .dot"
FRONT_PATH = """() => {
    const path = document.querySelector('.dlgene-overview-fig svg path.line');
    return path ? (path.getAttribute('d') || '') : '';
}"""


def _status(app: App) -> str:
    return app.text(".dlgene-status")


def test_dashboard_renders(app: App) -> None:
    page = app.page
    app.wait_for(".dlgene-dashboard", timeout=120)
    app.wait_event(lambda e: e["kind"] == "ready", 60, "'ready'")
    for css in ("spawn", "grow", "select", "breed", "evolve", "stop"):
        app.wait_for(f".dlgene-btn-{css}")
    for css in (
        ".dlgene-status",
        ".dlgene-grid canvas",
        ".dlgene-overview-fig",
        ".dlgene-growth-fig",
        ".dlgene-parent-picker",
        ".dlgene-top-tier .noUi-handle",
        ".dlgene-parent-preview",
        ".dlgene-evolve-n",
        ".dlgene-config-editor",
        ".dlgene-generation-views",
    ):
        app.wait_for(css)
    assert page.locator(".jp-OutputArea-output pre").filter(has_text="Traceback").count() == 0


def test_spawn_and_grow_show_live_curves_and_rows(app: App) -> None:
    page = app.page
    n_events = len(app.events())
    app.click(".dlgene-btn-spawn")
    app.wait_event(
        lambda e: e["kind"] == "message" and "spawned" in e["value"], 60, "spawned", n_events
    )
    app.wait_event(
        lambda e: e["kind"] == "grid" and len(e["value"]) == POPULATION, 30, "grid rows", n_events
    )
    n_events = len(app.events())
    page.evaluate(RECORD_FRAMES)
    app.click(".dlgene-btn-grow")
    # Live: while the kernel is still growing, the figure already has curve points.
    longest_live, deadline = 0, time.monotonic() + 90
    done = False
    samples: list[tuple[float, int]] = []
    while time.monotonic() < deadline and not done:
        points = int(page.evaluate(CURVE_POINTS))
        samples.append((time.time(), points))
        growing = any(
            e["kind"] == "status" and e["value"] == "growing" for e in app.events()[n_events:]
        )
        finished = [e for e in app.events()[n_events:] if e["kind"] == "progress"]
        done = bool(finished) and finished[-1]["value"][0] == POPULATION
        if growing and not done:
            longest_live = max(longest_live, points)
        time.sleep(0.15)
    assert done, (
        f"grow did not finish: {app.events()[-5:]}\nkernel threads:\n{app.kernel_stacks()}"
        f"\n{app.diagnose()}"
    )
    assert longest_live >= 2, "no live curve points were drawn while models were growing"
    # A curve in every painted frame (and poll) from a second after the first batch reached
    # the kernel (the throttle and the trip to the browser) until the last model finished:
    # earlier, a new model's figure was blank until its own points arrived, and a finished
    # model's line was emptied before its faded copy was drawn (a blank frame now and then).
    first = min(e["t"] for e in app.events("first_batch"))
    end = max(e["t"] for e in app.events("result"))
    frames = [(float(t), int(n)) for t, n in page.evaluate(STOP_FRAMES)]
    training = [(t, n) for t, n in samples + frames if first + 1.0 <= t <= end]
    blank = [round(t - first, 3) for t, n in training if n < 1]
    assert len(training) > len(samples) / 2 and not blank, (len(training), blank)
    app.wait_event(
        lambda e: e["kind"] == "status" and e["value"] == "idle", 30, "idle after grow", n_events
    )
    assert int(page.evaluate(CURVE_POINTS)) >= 2
    phenotypes = pd.read_parquet(app.run_dir / "phenotypes.parquet")
    assert len(phenotypes) == POPULATION
    page.wait_for_function(
        "() => /ok: /.test(document.querySelector('.dlgene-grid-summary').innerText)",
        timeout=30_000,
        polling=200,
    )
    rows = [e for e in app.events() if e["kind"] == "grid"][-1]["value"]
    assert sorted(rows) == sorted(phenotypes["model_id"])


def _preview_ids(text: str) -> list[str]:
    return sorted(set(re.findall(r"g\d+-\d{3}", text)))


def test_top_tier_slider_changes_preview_and_kernel_selection(app: App) -> None:
    page = app.page
    preview_before = app.text(".dlgene-parent-preview")
    n_events = len(app.events())
    handle = ".dlgene-top-tier .noUi-handle"
    page.focus(handle)
    for _ in range(40):  # up to the whole population, whatever the slider's step
        page.keyboard.press("ArrowRight")
        if len(_preview_ids(app.text(".dlgene-parent-preview"))) >= 3:
            break
        time.sleep(0.1)
    page.wait_for_function(
        "before => document.querySelector('.dlgene-parent-preview').innerText !== before",
        arg=preview_before,
        timeout=15_000,
    )
    slider_event = app.wait_event(
        lambda e: e["kind"] == "widget" and e["css"] == "dlgene-top-tier",
        15,
        "top-tier slider value",
        n_events,
    )
    assert float(slider_event["value"]) > 0.25
    preview = _preview_ids(app.text(".dlgene-parent-preview"))
    assert len(preview) > len(_preview_ids(preview_before)), preview
    # The choice reaches the clade: the picker selects (live, or on "use these parents").
    if not any(e["kind"] == "parents" and e["value"] for e in app.events()[n_events:]):
        app.click(".dlgene-btn-use-parents")
    parents = app.wait_event(
        lambda e: e["kind"] == "parents" and bool(e["value"]), 30, "parents", n_events
    )
    assert sorted(parents["value"]) == preview
    selections = pd.read_parquet(app.run_dir / "selections.parquet")
    assert sorted(selections["model_id"]) == preview


def test_overview_scatter_shows_every_model_its_front_and_a_click_selects(app: App) -> None:
    """One dot per finished model with a metric; the Pareto front (two objectives: the app
    notebook's val_accuracy against n_params) drawn as a line; a click on a dot selects that
    model in the kernel's shared selection and in the grid."""
    page = app.page
    phenotypes = pd.read_parquet(app.run_dir / "phenotypes.parquet")
    drawn = phenotypes[phenotypes["val_accuracy"].notna()]
    page.wait_for_function(
        f"() => document.querySelectorAll('{OVERVIEW_DOTS}').length === {len(drawn)}",
        timeout=30_000,
        polling=200,
    )
    page.wait_for_function(f"() => ({FRONT_PATH})().startsWith('M')", timeout=30_000)
    assert "Pareto front" in app.text(".dlgene-overview-fig")
    assert f"{len(drawn)} models" in app.text(".dlgene-overview-note")
    n_events = len(app.events())
    page.locator(OVERVIEW_DOTS).nth(1).click(force=True)
    chosen = app.wait_event(
        lambda e: e["kind"] == "selection" and e["name"] == "model_id" and e["value"],
        15,
        "a model selected by a click on the scatter",
        n_events,
    )["value"]
    assert chosen in set(drawn["model_id"])
    selected = app.wait_event(
        lambda e: e["kind"] == "grid-selections" and bool(e["value"]),
        15,
        "the grid selecting the clicked model",
        n_events,
    )
    rows = [e for e in app.events() if e["kind"] == "grid"][-1]["value"]
    assert selected["value"][0]["r1"] == rows.index(chosen)


GRID_COLUMN_LEFT = {  # default columns of the app's two-objective config, widths in px
    "status": 80,
    "parent": 80 + 72,
    "generation": 80 + 72 + 72,
    "val_accuracy": 80 + 72 + 72 + 100,
    "n_params": 80 + 72 + 72 + 100 + 114,
}
N_PARAMS_WIDTH = 86


def test_grid_sorts_filters_by_the_brush_and_exports(app: App) -> None:
    page = app.page
    phenotypes = pd.read_parquet(app.run_dir / "phenotypes.parquet").set_index("model_id")
    # sort: the header menu of n_params (its icon at the header's right end), ascending
    grid = page.locator(".dlgene-grid").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    n_events = len(app.events())
    icon_x = box["x"] + GRID_COLUMN_LEFT["n_params"] + N_PARAMS_WIDTH - 8
    page.mouse.click(icon_x, box["y"] + 10)
    page.locator(".ipydatagrid-context-menu .lm-Menu-item", has_text="Sort Ascending").click()
    app.wait_event(
        lambda e: (
            e["kind"] == "grid-transforms"
            and [(t["type"], t["column"], t["desc"]) for t in e["value"]]
            == [("sort", "n_params", False)]
        ),
        15,
        "the grid's sort on n_params",
        n_events,
    )
    shown = app.wait_event(
        lambda e: e["kind"] == "grid-visible_rows" and len(e["rows"]) >= POPULATION,
        15,
        "the grid's rows in their new order",
        n_events,
    )["rows"]
    sizes = [float(phenotypes.loc[m, "n_params"]) for m in shown if m in phenotypes.index]
    assert sizes == sorted(sizes), shown
    # filter: a brush on the parallel coordinates' metric axis keeps some models
    page.locator(".dlgene-analysis-tabs .lm-TabBar-tab").nth(1).click()
    app.wait_for(".dlgene-parallel-fig svg path.line", state="visible")
    n_events = len(app.events())
    page.wait_for_timeout(500)  # the tab has laid out its figure
    drag_brush(page, 0.05, 0.6)
    kept = app.wait_event(
        lambda e: e["kind"] == "selection" and e["name"] == "filtered_ids" and e["value"],
        15,
        "models kept by the brush",
        n_events,
    )["value"]
    expected = [] if kept == [""] else sorted(kept)  # [""]: the brush kept no model
    app.wait_event(
        lambda e: e["kind"] == "grid" and sorted(e["value"]) == expected,
        15,
        "the grid showing the brushed models",
        n_events,
    )
    assert "of" in app.text(".dlgene-parallel-note") and "kept" in app.text(".dlgene-grid-summary")
    app.click(".dlgene-brush-clear")
    app.wait_event(
        lambda e: e["kind"] == "grid" and len(e["value"]) == len(phenotypes),
        15,
        "every model again after clearing the brush",
        n_events,
    )
    app.wait_event(  # the browser has drawn them (export writes the rows it shows)
        lambda e: e["kind"] == "grid-visible_rows" and len(e["rows"]) == len(phenotypes),
        15,
        "the browser showing every model again",
        n_events,
    )
    # export: a CSV in the experiment folder and a download link in the page
    app.click(".dlgene-grid-export")
    app.wait_for(".dlgene-grid-export-link a[download]")
    written = sorted((app.run_dir / "exports").glob("models-*.csv"))
    assert written, "no CSV written to <run>/exports"
    table = pd.read_csv(written[-1])
    assert sorted(table["model_id"]) == sorted(phenotypes.index)
    exported = [float(phenotypes.loc[m, "n_params"]) for m in table["model_id"]]
    assert exported == sorted(exported)  # in the browser's order: n_params ascending


def test_screenshot(app: App) -> None:
    """After a real run (generation 0 grown, parents chosen): docs/screenshots/*.png."""
    name = "dashboard-voila.png" if app.frontend == "voila" else "dashboard-lab.png"
    path = app.screenshot(name)
    if path is None:
        pytest.skip("set DLGENE_WRITE_SCREENSHOTS=1 to write docs/screenshots/" + name)
    assert path.stat().st_size > 10_000


def test_stop_ends_evolve_and_keeps_finished_models(app: App) -> None:
    page = app.page
    field = page.locator(".dlgene-evolve-n input").first
    field.fill("6")
    field.press("Enter")
    field.press("Tab")
    n_events = len(app.events())
    app.click(".dlgene-btn-evolve")
    # Let at least one model of generation 1 finish, then press stop.
    app.wait_event(
        lambda e: e["kind"] == "generation" and e["value"] >= 1, 60, "generation 1", n_events
    )
    bred_at = next(
        i
        for i, e in enumerate(app.events())
        if i >= n_events and e["kind"] == "generation" and e["value"] >= 1
    )
    app.wait_event(
        lambda e: e["kind"] == "progress" and e["value"][0] >= 1,
        90,
        "a finished model in generation 1",
        bred_at,
    )
    app.click(".dlgene-btn-stop")
    stopped = app.wait_event(
        lambda e: e["kind"] == "message" and "stopped" in e["value"], 60, "stopped", n_events
    )
    app.wait_event(
        lambda e: e["kind"] == "status" and e["value"] == "idle", 60, "idle after stop", n_events
    )
    page.wait_for_function(
        "() => /stop/i.test(document.querySelector('.dlgene-status').innerText)",
        timeout=30_000,
        polling=200,
    )
    generations = [e["value"] for e in app.events() if e["kind"] == "generation"]
    assert max(generations) < 6 - 1, f"evolve ran to the end before stop: {generations}"
    phenotypes = pd.read_parquet(app.run_dir / "phenotypes.parquet")
    assert set(phenotypes["status"]) <= set(FINISHED), phenotypes["status"].tolist()
    assert len(phenotypes) >= POPULATION + 1
    for model_id in phenotypes["model_id"]:
        assert (app.run_dir / "growth" / f"{model_id}.batches.parquet").exists()
    last = max(generations)
    n_last = int((phenotypes["generation"] == last).sum())
    assert f"{n_last}/{POPULATION}" in stopped["value"], stopped
    assert "stop" in _status(app).lower()


SIDE = ".jp-LinkedOutputView .dlgene-dashboard"
MAIN = ".jp-NotebookPanel .dlgene-dashboard"


def test_lab_side_panel_is_a_live_view_of_the_same_dashboard(app: App) -> None:
    """JupyterLab's "Create New View for Output" docks the dashboard in a panel of its own
    (split below the notebook; drag it to either side; no extra package needed): a second
    view of the same widget models, so a slider moved there reaches the kernel and the
    notebook's view follows."""
    if app.frontend != "lab":
        pytest.skip("the side panel is a JupyterLab feature; Voila is a single page")
    page = app.page
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:create-output-view')")
    app.wait_for(f"{SIDE} .dlgene-top-tier .noUi-handle", timeout=60, state="visible")
    side_box = page.locator(".jp-LinkedOutputView").first.bounding_box()
    notebook_box = page.locator(".jp-NotebookPanel").first.bounding_box()
    assert side_box and notebook_box
    beside = side_box["x"] >= notebook_box["x"] + notebook_box["width"] - 2
    below = side_box["y"] >= notebook_box["y"] + notebook_box["height"] - 2
    assert beside or below, (side_box, notebook_box)  # its own docked panel, no overlap
    assert "idle" in page.locator(f"{SIDE} .dlgene-status").first.inner_text().lower()
    readout = f"{SIDE} .dlgene-top-tier .widget-readout"
    before = page.locator(readout).first.inner_text()
    n_events = len(app.events())
    page.focus(f"{SIDE} .dlgene-top-tier .noUi-handle")
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    moved = app.wait_event(
        lambda e: e["kind"] == "widget" and e["css"] == "dlgene-top-tier",
        15,
        "top-tier moved in the side panel",
        n_events,
    )
    page.wait_for_function(
        """([main, value]) => {
            const el = document.querySelector(main);
            return !!el && el.innerText.trim() === value;
        }""",
        arg=[f"{MAIN} .dlgene-top-tier .widget-readout", page.locator(readout).first.inner_text()],
        timeout=15_000,
    )
    assert float(moved["value"]) < float(before)


def test_no_request_leaves_loopback(app: App) -> None:
    """Every request the page made went to 127.0.0.1 (non-loopback ones are aborted by the
    fixture, so this lists what the page *tried*); only Voila's template CDN is known."""
    assert app.requests.urls, "no requests were recorded"
    external = app.requests.external()
    known = [u for u in external if app.frontend == "voila" and u.startswith(VOILA_TEMPLATE_CDN)]
    assert [u for u in external if u not in known] == []
    if known:
        warnings.warn(
            f"Voila's page template tried to load {len(known)} stylesheet(s) from a CDN "
            f"(aborted): {known}",
            stacklevel=1,
        )


# What Chromium logs when a figure sets an SVG attribute it cannot parse: bqplot laying out a
# figure it cannot see (a hidden tab: width 0 minus the margins gives a negative <rect>), or
# a colour bar on an empty domain (ticks at translate(0,NaN)). A person sees nothing, but the
# figure is drawn wrong until the next redraw.
SVG_ATTRIBUTE_ERROR = re.compile(r"<\w+> attribute [\w-]+: ")


def test_no_figure_sets_an_invalid_svg_attribute(app: App) -> None:
    """Over the whole session (render, grow, the analysis tabs, evolve), no figure was laid
    out in a hidden container (the analysis tabs mount a panel only when it is shown) and no
    axis drew ticks from an empty domain (the overview's colour scale has a fixed one)."""
    errors = [m for m in app.console if SVG_ATTRIBUTE_ERROR.search(m)]
    assert errors == [], errors[:5]
