"""Browser memory stays flat over a long run: 50 models in one Voila page.

A long run used to leak in the browser (issue 10: JS heap 26 -> 48 MB, DOM nodes 3.6k ->
20.7k, listeners 522 -> 8,019 over 48 models), because marks, rows and widgets were made per
model and their views never released. Here a dashboard grows 10 models, the page is measured
after forced garbage collection (CDP ``HeapProfiler.collectGarbage``, then
``Performance.getMetrics``), 40 more are grown and it is measured again.

The bound: JS heap, DOM nodes and event listeners each grow less than 20% from the 10th model
to the 50th, not counting what draws the run itself (the overview and parallel-coordinates
figures, one dot or line per finished model with its listeners, and the options of the
lists of models and generations): that must grow with the run, and the test checks one dot
per model. While
models train the live plot is sampled every 0.5 s and must show a curve at every sample
(from a second after the first batch reached the kernel to the end).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import App, served_app

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

POPULATION = 10
GROWTH_BOUND = 0.20
SAMPLE_S = 0.5
LATENCY_S = 1.0  # throttle (0.1 s) + the trip to the browser, with margin on 2 busy cores
SETTLE_S = 12.0  # retired widgets are closed 10 s after they leave a view (_retire.py)
METRICS = ("JSHeapUsedSize", "Nodes", "JSEventListeners")
TINY_CONFIG = f"""\
config = CladeConfig(
    population_size={POPULATION},
    nb_layers=(1, 2),
    nb_units=(8, 64),
    epochs=(1, 1),
    batch_size=(16, 64),
    max_train_steps=40,
    max_train_time=20.0,
    top_tier=0.3,
    random_tier=0.1,
    seed=5,
)"""
CURVE_POINTS = """() => {
    let longest = 0;
    for (const p of document.querySelectorAll('.dlgene-growth-fig svg path.line')) {
        const points = ((p.getAttribute('d') || '').match(/[ML]/g) || []).length;
        if (points > longest) longest = points;
    }
    return longest;
}"""
BREAKDOWN = """() => {
    const count = sel => [...document.querySelectorAll(sel)]
        .reduce((n, el) => n + el.getElementsByTagName('*').length + 1, 0);
    const walker = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
    let all = 0;
    while (walker.nextNode()) all++;
    return {
        in_document: all,
        document: document.getElementsByTagName('*').length,
        growth: count('.dlgene-growth-panel'),
        table: count('.dlgene-population-table'),
        picker: count('.dlgene-parent-picker'),
        views: count('.dlgene-generation-views'),
        config: count('.dlgene-config-editor'),
        options: document.getElementsByTagName('option').length,
        svg_paths: document.querySelectorAll('.dlgene-dashboard svg path').length,
    };
}"""
# What draws the run itself: the two figures with one mark per model of the run (overview
# dots, parallel-coordinates lines; their listeners too) and the options of the lists of
# models and generations. The bound is on everything else.
RUN_FIGURES = (".dlgene-overview-fig", ".dlgene-parallel-fig")
RUN_ELEMENTS = """() => {
    const within = el => el.getElementsByTagName('*').length + 1;
    const figures = [...document.querySelectorAll('.dlgene-overview-fig, .dlgene-parallel-fig')];
    const options = document.getElementsByTagName('option').length;
    return {
        dots: document.querySelectorAll('.dlgene-overview-fig svg .dot').length,
        lines: document.querySelectorAll('.dlgene-parallel-fig svg path.line').length,
        run_nodes: figures.reduce((n, el) => n + within(el), 0) + options,
    };
}"""
RED_TEXT = """() => [...document.querySelectorAll('.dlgene-dashboard *')]
    .filter(el => el.children.length === 0 && el.innerText
        && getComputedStyle(el).color === 'rgb(176, 0, 32)')
    .map(el => el.innerText)"""


@pytest.fixture(scope="module")
def app(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    root = tmp_path_factory.mktemp("browser-memory")
    with served_app(chromium, root, "voila", TINY_CONFIG) as app:
        yield app


def measure(app: App) -> dict[str, float]:
    """The page's heap, DOM nodes and listeners after two forced garbage collections."""
    cdp = app.page.context.new_cdp_session(app.page)
    try:
        cdp.send("Performance.enable")
        for _ in range(2):
            cdp.send("HeapProfiler.collectGarbage")
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        try:  # diagnostic: what detached trees are still held (Chromium >= 125)
            cdp.send("DOM.enable")
            detached = cdp.send("DOM.getDetachedDomNodes")["detachedNodes"]
            roots: dict[str, int] = {}
            for d in detached:
                node = d["treeNode"]
                attrs = node.get("attributes", [])
                cls = dict(zip(attrs[::2], attrs[1::2], strict=False)).get("class", "")
                key = f"{node.get('nodeName')}.{cls[:60]}"
                roots[key] = roots.get(key, 0) + 1 + len(d.get("retainedNodeIds", []))
            print("detached:", len(detached), sorted(roots.items(), key=lambda kv: -kv[1])[:12])
        except Exception as exc:
            print("detached: n/a", exc)
        run = app.page.evaluate(RUN_ELEMENTS)
        run["run_listeners"] = sum(_listeners_within(cdp, selector) for selector in RUN_FIGURES)
    finally:
        cdp.detach()
    values = {name: float(metrics[name]) for name in METRICS}
    values.update(app.page.evaluate(BREAKDOWN))  # where the nodes are, for the report
    values.update(run)
    values["Nodes"] -= run["run_nodes"]
    values["JSEventListeners"] -= run["run_listeners"]
    return values


def _listeners_within(cdp: Any, selector: str) -> int:
    """Event listeners on the element ``selector`` names and everything inside it."""
    expression = f"document.querySelector({json.dumps(selector)})"
    element = cdp.send("Runtime.evaluate", {"expression": expression})["result"]
    if not element.get("objectId"):
        return 0
    found = cdp.send(
        "DOMDebugger.getEventListeners",
        {"objectId": element["objectId"], "depth": -1, "pierce": True},
    )
    return len(found["listeners"])


def evolve(app: App, generations: int, finished_before: int) -> list[tuple[float, int]]:
    """Press evolve for ``generations``; sample the live plot until the clade is idle
    again. Returns (time, longest curve) samples taken while models were training."""
    page = app.page
    field = page.locator(".dlgene-evolve-n input").first
    field.fill(str(generations))
    field.press("Enter")
    field.press("Tab")
    n_events, n_first = len(app.events()), len(app.events("first_batch"))
    app.click(".dlgene-btn-evolve")
    target = finished_before + generations * POPULATION
    samples: list[tuple[float, int]] = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        samples.append((time.time(), int(page.evaluate(CURVE_POINTS))))
        if len(app.events("result")) >= target and "idle" in app.text(".dlgene-status"):
            break
        time.sleep(SAMPLE_S)
    else:
        raise AssertionError(f"evolve did not finish in 300 s\n{app.diagnose()}")
    app.wait_event(lambda e: e["kind"] == "status" and e["value"] == "idle", 60, "idle", n_events)
    results = app.events("result")
    first = min(e["t"] for e in app.events("first_batch")[n_first:])
    end = max(e["t"] for e in results)
    return [(t, n) for t, n in samples if first + LATENCY_S <= t <= end]


def test_no_red_text_before_the_first_grow(app: App) -> None:
    app.wait_for(".dlgene-dashboard .dlgene-btn-spawn", timeout=120)
    app.wait_for(".dlgene-parent-preview")
    assert app.page.evaluate(RED_TEXT) == []
    assert "spawn" in app.text(".dlgene-status")


def test_memory_stays_flat_over_50_models_and_the_plot_always_shows_a_curve(app: App) -> None:
    page = app.page
    training = evolve(app, 1, 0)
    assert len(app.events("result")) == POPULATION
    page.wait_for_timeout(SETTLE_S * 1000)
    at_10 = measure(app)
    training += evolve(app, 4, POPULATION)
    assert len(app.events("result")) >= 5 * POPULATION
    page.wait_for_timeout(SETTLE_S * 1000)
    at_50 = measure(app)
    assert (at_10["dots"], at_50["dots"]) == (POPULATION, 5 * POPULATION)  # one per model
    assert at_50["lines"] in (0, 5 * POPULATION)  # one per model (once the tab was drawn)
    growth = {name: at_50[name] / at_10[name] - 1 for name in METRICS}
    report = {"model_10": at_10, "model_50": at_50, "growth": growth}
    print("browser memory:", json.dumps(report, indent=1))
    (app.server.root / "memory.json").write_text(json.dumps(report, indent=1))
    blank = [t for t, n in training if n < 1]
    assert len(training) >= 20, training
    assert blank == [], f"{len(blank)} of {len(training)} samples showed no curve"
    for name in METRICS:
        assert growth[name] < GROWTH_BOUND, report
    assert page.evaluate(RED_TEXT) == []
