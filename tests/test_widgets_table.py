"""PopulationTable: core state (genotypes, phenotypes, parents, running) reaches the HTML."""

from __future__ import annotations

import re
import time

import pandas as pd
import pytest

from dlgene_core import GAFC1, CladeConfig
from dlgene_core.trainer import PHENOTYPE_COLUMNS
from dlgene_widgets import PopulationTable


def fake_phenotypes(ids, statuses, generation=0):
    """Phenotype rows as the trainer writes them, with made-up scores (no training)."""
    rows = []
    for i, (mid, status) in enumerate(zip(ids, statuses, strict=True)):
        row = {c: float("nan") for c in PHENOTYPE_COLUMNS}
        row.update(model_id=mid, generation=generation, kind="GAFC1", status=status, reason="")
        row.update(val_accuracy=0.1 + 0.01 * i, test_accuracy=0.2, val_loss=2.0 - 0.01 * i)
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture
def clade(tmp_path):
    cfg = CladeConfig(population_size=6).updated(nb_units=(8, 32), nb_layers=(1, 2))
    clade = GAFC1(cfg, data="digits", folder=tmp_path / "run")
    clade.spawn()
    return clade


def row_ids(html_text):
    return re.findall(r"data-model-id='([^']+)'", html_text)


def test_rows_status_parents_and_running(clade):
    table = PopulationTable(clade)
    assert "dlgene-population-table" in table.table._dom_classes
    assert row_ids(table.table.value) == list(clade.genotypes["model_id"])
    assert set(table.frame["status"]) == {"pending"}
    ids = list(clade.genotypes["model_id"])
    clade.phenotypes = fake_phenotypes(ids[:4], ["ok", "diverged", "timed_out", "failed"])
    clade.running_models = [ids[4]]
    table.refresh()  # (the throttle would do this within a fraction of a second)
    status = dict(zip(table.frame["model_id"], table.frame["status"], strict=True))
    assert status == {
        ids[0]: "ok",
        ids[1]: "diverged",
        ids[2]: "timed_out",
        ids[3]: "failed",
        ids[4]: "training",
        ids[5]: "pending",
    }
    clade.select_parents(model_ids=[ids[2], ids[0]])
    table.refresh()
    assert table.frame.set_index("model_id")["parent"].to_dict()[ids[0]]
    assert f"dlgene-parent' data-model-id='{ids[0]}'" in table.table.value


def test_throttled_refresh_follows_core_changes(clade):
    table = PopulationTable(clade, max_rate_hz=20)
    ids = list(clade.genotypes["model_id"])
    clade.phenotypes = fake_phenotypes(ids, ["ok"] * len(ids))
    deadline = time.monotonic() + 5
    while "pending" in set(table.frame["status"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert set(table.frame["status"]) == {"ok"}


def test_sort_any_column_and_select_rows(clade):
    table = PopulationTable(clade)
    ids = list(clade.genotypes["model_id"])
    clade.phenotypes = fake_phenotypes(ids, ["ok"] * len(ids))
    table.refresh()
    table.sort_picker.value = "val_accuracy"
    table.order_toggle.value = False  # descending
    assert row_ids(table.table.value) == ids[::-1]
    table.sort_by = "layers_units"  # a list column sorts by its text
    assert len(row_ids(table.table.value)) == len(ids)
    table.row_picker.value = (ids[1], ids[3])
    assert table.selected_ids == [ids[1], ids[3]]
    assert re.search(
        rf"class='[^']*dlgene-selected[^']*' data-model-id='{ids[1]}'", table.table.value
    )
    table.selected_ids = [ids[0]]
    assert table.row_picker.value == (ids[0],)


def test_two_hundred_rows_render_fast(tmp_path):
    cfg = CladeConfig(population_size=220).updated(nb_units=(8, 32), nb_layers=(1, 3))
    clade = GAFC1(cfg, data="digits", folder=tmp_path / "big")
    clade.spawn()
    ids = list(clade.genotypes["model_id"])
    clade.phenotypes = fake_phenotypes(ids, ["ok"] * len(ids))
    table = PopulationTable(clade)
    started = time.perf_counter()
    for column in ("val_accuracy", "layers_units", "status", "model_id"):
        table.sort_by = column
    elapsed = (time.perf_counter() - started) / 4
    assert len(row_ids(table.table.value)) == 220
    assert elapsed < 0.25, f"one render of 220 rows took {elapsed:.3f} s"
