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
        row.update(n_params=1000 + i, train_time=1.5)
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
    # a normal state, not an error: a grey hint that says what to do, nothing red
    # (this replaces the old red "select_parents: ... has no grown models" preview_error)
    assert picker.preview_error == ""
    assert "no grown models" in picker.hint and "grow" in picker.hint
    assert "#b00020" not in picker.preview.value and "#666" in picker.preview.value
    assert "#b00020" not in picker.stored.value


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
    # the message names the tier values it stored with, so a user can check them
    assert "stored 3 parents for generation 0 (top 0.30 + random 0.00)" in picker.message.value
    picker.mode = "manual"
    picker.picks = []
    picker.use_button.click()
    assert "no models picked" in picker.message.value
    with pytest.raises(ValueError, match="no models picked"):
        picker.use_parents()


def test_sliders_send_their_value_when_released(clade):
    """A continuous slider could still be sending steps when "use these parents" is
    clicked (the click overtakes them), storing parents the preview never showed."""
    picker = ParentPicker(clade)
    sliders = (picker.top_slider, picker.random_slider, picker.rank_slider)
    assert [s.continuous_update for s in sliders] == [False, False, False]


def test_switching_to_tiers_clears_hand_ticks_and_hand_mode_disables_sliders(clade):
    picker = ParentPicker(clade)
    ids = list(clade.genotypes["model_id"])
    assert not picker.top_slider.disabled and not picker.random_slider.disabled
    picker.checkboxes[ids[0]].value = True
    picker.checkboxes[ids[3]].value = True
    assert picker.mode == "manual" and picker.picks == [ids[3], ids[0]]
    assert picker.top_slider.disabled and picker.random_slider.disabled
    picker.mode_buttons.value = "tiers"  # back to the tiers: the ticks go
    assert picker.picks == [] and not any(box.value for box in picker.checkboxes.values())
    assert not picker.top_slider.disabled and not picker.random_slider.disabled
    assert picker.preview_ids == list(clade.preview_parents(0.2, 0.1)["model_id"])
    picker.rank_slider.value = 2  # the top-K slider picks by hand
    assert picker.mode == "manual" and picker.picks == [ids[9], ids[8]]
    picker.mode = "tiers"
    assert picker.picks == [] and picker.rank_slider.value == 0


def test_candidates_show_metric_size_time_and_genotype(clade):
    picker = ParentPicker(clade)
    best = picker.ranking[0]
    label = picker.checkboxes[best].description
    assert label.startswith(f"1. {best} · val_accuracy 0.5500")
    assert "1,009 params" in label and "1.5 s" in label
    genotype = clade.genotypes.set_index("model_id").loc[best]
    assert str(genotype["optimizer"]) in label and f"bs {int(genotype['batch_size'])}" in label


def test_a_new_generation_starts_the_picker_afresh(clade):
    picker = ParentPicker(clade)
    ids = list(clade.genotypes["model_id"])
    picker.checkboxes[ids[9]].value = True
    picker.checkboxes[ids[8]].value = True
    picker.use_button.click()
    assert "stored 2 parents for generation 0" in picker.message.value
    clade.breed()
    picker.refresh()
    assert clade.generation == 1
    # no stale "stored 2 parents" or "would choose 0" beside "no parents stored yet"
    assert picker.message.value == "" and picker.mode == "tiers" and picker.picks == []
    assert "generation 1 has no grown models" in picker.hint
    assert "would choose" not in picker.preview.value
    assert "no parents stored for generation 1 yet" in picker.stored.value
    assert "#b00020" not in picker.preview.value + picker.stored.value + picker.message.value


def test_checkboxes_are_reused_across_generations(clade):
    picker = ParentPicker(clade)
    boxes = list(picker.manual_box.children)
    clade.select_parents(top_tier=0.5, random_tier=0.0)
    clade.breed()
    new_ids = list(clade.genotypes["model_id"])
    table = fake_phenotypes(new_ids, generation=1)
    clade.phenotypes = pd.concat([clade.phenotypes, table], ignore_index=True)
    picker.refresh()
    assert picker.ranking[0] == new_ids[-1]
    assert list(picker.manual_box.children) == boxes  # relabelled, not made per model
    assert picker.checkboxes[new_ids[-1]] is boxes[0]
    assert f"dlgene-pick-{new_ids[-1]}" in boxes[0]._dom_classes
    assert not any(box.value for box in boxes)
