"""The HTML report in headless Chromium: it opens from a file, asks the network for nothing,
and every picture renders (screenshot: docs/screenshots/report.png)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dlgene_core.report import write_report

from .conftest import SCREENSHOTS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from export_helpers import grow_tiny

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]


def test_report_renders_offline_with_its_images(chromium, tmp_path) -> None:
    clade = grow_tiny(tmp_path / "run", population_size=4, generations=2)
    clade.refit()
    report = write_report(clade, tmp_path / "report.html")
    context = chromium.new_context(viewport={"width": 1200, "height": 900}, offline=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(report.as_uri(), wait_until="load")
        page.wait_for_function(
            "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)",
            timeout=20_000,
        )
        widths = page.evaluate("() => [...document.images].map(i => i.naturalWidth)")
        assert len(widths) == 3 and min(widths) > 100
        assert "dlgene run" in page.title() or page.title().startswith("dlgene report")
        assert page.locator("table").count() >= 3  # best, final, genotypes
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
    finally:
        context.close()
    leaving = [u for u in requests if not u.startswith(("file://", "data:"))]
    assert leaving == [], f"requests left the machine: {leaving}"
    assert requests[0] == report.as_uri()
