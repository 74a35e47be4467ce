"""ParentPicker: sliders drive the preview, picks are stored in the core and survive."""

from __future__ import annotations

import pandas as pd
import pytest

from dlgene_core import GAFC1, Clade, CladeConfig
from dlgene_core.trainer import PHENOTYPE_COLUMNS
from dlgene_widgets import ParentPicker


def fake_phenotypes(ids, generation=0):
    """Finished phenotypes with made-up scores: later ids score better."""
    rows = []
    for i, mid in enumerate(ids):
        row = {c: float("nan") for c in PHENOTYPE_COLUMNS}
        row.update(model_id=mid, generation=generation, kind="GAFC1", status="ok", reason="")
        row.update(val_accuracy=0.1 + 0.05 * i, test_accuracy=0.2, val_loss=2.0 - 0.05 * i)
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture
def clade(tmp_path):
    cfg = CladeConfig(population_size=10).updated(nb_units=(8, 32), nb_layers=(1, 2))
    clade = GAFC1(cfg, data="digits", folder=tmp_path / "run")
    clade.spawn()
    # Phenotypes are normally written by grow_models; here they are made up (no training).
    clade.store.write_table("phenotypes", fake_phenotypes(list(clade.genotypes["model_id"])))
    clade.phenotypes = clade.store.read_table("phenotypes")
    return clade


def test_no_grown_models_explains_itself(tmp_path):
    cfg = CladeConfig(population_size=3).updated(nb_units=(8, 16), nb_layers=(1, 1))
    clade = GAFC1(cfg, data="digits", folder=tmp_path / "empty")
    clade.spawn()
    picker = ParentPicker(clade)
    assert picker.preview_ids == []
    assert "no grown models" in picker.preview_error


def test_tier_sliders_change_the_preview(clade):
    picker = ParentPicker(clade)
    for name, widget in (
        ("dlgene-parent-picker", picker),
        ("dlgene-top-tier", picker.top_slider),
        ("dlgene-random-tier", picker.random_slider),
        ("dlgene-parent-preview", picker.preview),
        ("dlgene-btn-use-parents", picker.use_button),
        ("dlgene-manual-picks", picker.manual_box),
    ):
        assert name in widget._dom_classes
    ids = list(clade.genotypes["model_id"])
    picker.random_slider.value = 0.0
    picker.top_slider.value = 0.2
    assert picker.preview_ids == [ids[9], ids[8]]
    picker.top_slider.value = 0.4
    assert picker.preview_ids == [ids[9], ids[8], ids[7], ids[6]]
    assert ids[6] in picker.preview.value
    picker.random_slider.value = 0.2
    assert len(picker.preview_ids) == 6
    assert picker.preview_ids == list(clade.preview_parents(0.4, 0.2)["model_id"])


def test_manual_picks_top_k_and_use_parents_store_in_core(clade):
    picker = ParentPicker(clade)
    ids = list(clade.genotypes["model_id"])
    assert picker.ranking[0] == ids[9]
    assert len(picker.manual_box.children) == 10
    picker.rank_slider.value = 3  # top 3 by rank
    assert picker.mode == "manual"
    assert picker.picks == [ids[9], ids[8], ids[7]]
    assert picker.checkboxes[ids[8]].value
    picker.checkboxes[ids[8]].value = False
    picker.checkboxes[ids[0]].value = True
    assert picker.preview_ids == [ids[9], ids[7], ids[0]]
    picker.use_button.click()
    assert list(clade.parents["model_id"]) == [ids[9], ids[7], ids[0]]
    assert set(clade.parents["reason"]) == {"manual"}
    assert "stored 3 parents" in picker.message.value
    # A new picker (and a re-opened clade) shows the stored choice.
    again = ParentPicker(Clade.open(clade.store.path))
    assert again.mode == "manual" and again.picks == [ids[9], ids[7], ids[0]]
    assert ids[0] in again.stored.value
    children = clade.breed()
    assert set(p for row in children["parents"] for p in row) <= {ids[9], ids[7], ids[0]}


def test_use_parents_with_tiers_and_errors_are_shown(clade):
    picker = ParentPicker(clade)
    picker.top_slider.value = 0.3
    picker.random_slider.value = 0.0
    picker.use_button.click()
    assert list(clade.parents["reason"]) == ["top"] * 3
    picker.mode = "manual"
    picker.picks = []
    picker.use_button.click()
    assert "no models picked" in picker.message.value
    with pytest.raises(ValueError, match="no models picked"):
        picker.use_parents()
