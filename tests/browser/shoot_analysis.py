"""Screenshots of the analysis panels for the docs, from a real run folder.

    python -m tests.browser.shoot_analysis RUN_FOLDER [OUT_DIR]

Serves a notebook that re-opens RUN_FOLDER (read-only) in a dashboard with Voila, opens it
in headless Chromium (the browser tests' recipe), clicks a point of the overview scatter
and writes overview.png, parallel-coordinates.png and grid.png (default docs/screenshots).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from .conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, start_voila

CELL = """\
from dlgene_core import Clade
from dlgene_widgets import CladeDashboard
clade = Clade.open({folder!r}, read_only=True)
dashboard = CladeDashboard(clade)
dashboard"""


def shoot(folder: Path, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="dlgene-shoot-"))
    notebook = root / "analysis.ipynb"
    nb = new_notebook(cells=[new_code_cell(CELL.format(folder=str(folder.resolve())))])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, notebook)
    written = []
    tabs = ".dlgene-analysis-tabs .lm-TabBar-tab"
    with start_voila(notebook, root) as server, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.goto(server.url, timeout=120_000)
        page.wait_for_selector(".dlgene-overview-fig svg .dot", timeout=120_000)
        page.wait_for_timeout(1500)
        dots = page.locator(".dlgene-overview-fig svg .dot")
        dots.nth(dots.count() // 2).click(force=True)  # a selected model shows everywhere
        page.wait_for_timeout(1500)

        def save(name: str, selector: str) -> None:
            page.locator(selector).first.screenshot(path=str(out / name))
            written.append(out / name)

        save("overview.png", ".dlgene-overview")
        page.locator(tabs).nth(1).click()
        page.wait_for_selector(".dlgene-parallel-fig svg path.line", timeout=30_000)
        page.wait_for_timeout(1000)
        drag_brush(page, 0.08, 0.35)  # the best models on the metric axis
        page.wait_for_timeout(1500)
        save("parallel-coordinates.png", ".dlgene-parallel")
        save("grid.png", ".dlgene-grid-panel")  # filtered by the brush
        page.locator(tabs).nth(2).click()
        page.wait_for_timeout(4000)  # the forest is fitted once its tab is shown
        save("importance.png", ".dlgene-importance")
        browser.close()
    return written


def drag_brush(page, top: float, bottom: float) -> None:
    """Drag the parallel coordinates' vertical brush from ``top`` to ``bottom`` (fractions
    of the plot's height, from the top)."""
    box = page.locator(".dlgene-parallel-fig svg .plotarea_background").first.bounding_box()
    x = box["x"] + box["width"] * 0.93
    page.mouse.move(x, box["y"] + box["height"] * top)
    page.mouse.down()
    page.mouse.move(x, box["y"] + box["height"] * bottom, steps=8)
    page.mouse.up()


if __name__ == "__main__":
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else SCREENSHOTS
    for path in shoot(Path(sys.argv[1]), target):
        print(path)
