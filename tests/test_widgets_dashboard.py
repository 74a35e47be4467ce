"""CladeDashboard: buttons run core steps on a worker thread; stop keeps finished models."""

from __future__ import annotations

import sys

import pytest
from wait_helpers import wait_for

from dlgene_core import GAFC1, CladeConfig
from dlgene_widgets import CladeDashboard, JobError

CONTRACT = [
    "dlgene-btn-spawn",
    "dlgene-btn-grow",
    "dlgene-btn-select",
    "dlgene-btn-breed",
    "dlgene-btn-evolve",
    "dlgene-btn-stop",
]


def tiny_clade(folder, n=3, epochs=(1, 1)):
    cfg = CladeConfig(population_size=n).updated(
        epochs=epochs, nb_units=(8, 16), nb_layers=(1, 1), batch_size=(32, 64)
    )
    clade = GAFC1(cfg, data="digits", folder=folder)
    clade.load_data()
    return clade


def shown_text(widget) -> str:
    """Every text a person sees in ``widget``'s tree: HTML, labels, titles, descriptions."""
    texts, stack, seen = [], [widget], set()
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        for name in ("value", "title", "description"):
            value = getattr(w, name, None)
            if isinstance(value, str):
                texts.append(value)
        stack.extend(getattr(w, "children", ()) or ())
        stack.extend(getattr(w, "marks", ()) or ())
    return "\n".join(texts)


def test_buttons_run_spawn_grow_select_breed_in_a_thread(tmp_path):
    clade = tiny_clade(tmp_path / "run")
    dash = CladeDashboard(clade)
    assert "dlgene-dashboard" in dash._dom_classes
    assert [c for b in dash.buttons.values() for c in b._dom_classes] == CONTRACT
    assert "dlgene-evolve-n" in dash.evolve_n._dom_classes
    assert "dlgene-status" in dash.status_line._dom_classes
    assert "#b00020" not in shown_text(dash)  # nothing grown yet is not an error
    assert "press spawn to begin" in dash.status_line.value
    assert dash.views.heatmap_figure.marks == []  # no placeholder confusion matrix
    dash.buttons["spawn"].click()
    dash.wait()
    assert len(clade.genotypes) == 3
    assert "#b00020" not in shown_text(dash)  # spawned, before the first grow
    assert "no grown models" in dash.parents.hint
    dash.buttons["grow"].click()
    assert dash.running and dash.buttons["spawn"].disabled and dash.buttons["grow"].disabled
    assert not dash.buttons["stop"].disabled
    with pytest.raises(RuntimeError, match="still running"):
        dash.start_job("spawn", clade.spawn)
    dash.wait()
    assert not dash.running and not dash.buttons["grow"].disabled
    assert len(clade.generation_phenotypes()) == 3
    # the grid (it replaced the HTML table) holds one row per grown model, none pending
    assert len(dash.table.grid.data) == 3
    assert "pending" not in set(dash.table.grid.data["status"])
    assert "3/3 grown" in dash.status_line.value
    dash.parents.top_slider.value = 0.35  # round(0.35 * 3) = 1 top model
    dash.parents.random_slider.value = 0.0
    dash.buttons["select"].click()
    dash.wait()
    assert len(clade.parents) == 1
    assert dash.views.heatmap_figure.marks == [dash.views.heatmap]
    dash.buttons["breed"].click()
    dash.wait()
    assert clade.generation == 1 and len(clade.genotypes) == 3
    dash.table.refresh()  # (its throttle would within half a second)
    # the grid lists the whole run: generation 0's grown models, then the new pending ones
    assert set(dash.table.row_ids) == set(clade.all_genotypes["model_id"])
    assert dash.table.row_ids[3:] == sorted(clade.genotypes["model_id"])
    dash.parents.refresh()
    assert "#b00020" not in shown_text(dash)  # the start of a generation is calm too
    assert "generation 1 has no grown models" in dash.parents.hint


def test_status_line_names_the_running_job(tmp_path):
    import threading

    clade = tiny_clade(tmp_path / "run")
    dash = CladeDashboard(clade)
    release = threading.Event()
    dash.start_job("grow", lambda: release.wait(30))
    try:
        assert clade.status == "idle"  # the clade has not begun a step yet ...
        assert dash.status_state() == "growing"  # ... but the line names the job
        assert "<b>growing</b>" in dash.status_line.value
        assert "idle" not in dash.status_line.value
    finally:
        release.set()
        dash.wait()
    assert "<b>idle</b>" in dash.status_line.value
    dash.start_job("evolve", lambda: clade.spawn())
    dash.wait()
    assert "<b>idle</b>" in dash.status_line.value and "spawned" in dash.status_line.value


def test_job_errors_show_in_status_line_and_wait_raises(tmp_path):
    clade = tiny_clade(tmp_path / "run")
    dash = CladeDashboard(clade)
    dash.buttons["breed"].click()  # breed before anything: the core refuses
    with pytest.raises(JobError, match="breed failed") as info:
        dash.wait()
    assert "no parents selected" in str(info.value.__cause__)
    assert "breed failed: CladeStateError" in dash.status_line.value
    assert "#b00020" in dash.status_line.value  # an error stays red and says what to do
    assert "press the button again" in dash.status_line.value
    assert not dash.buttons["breed"].disabled
    dash.wait()  # the error was reported once; waiting again is quiet


def test_stop_during_evolve_keeps_finished_models(tmp_path):
    clade = tiny_clade(tmp_path / "run", n=4, epochs=(3, 3))
    dash = CladeDashboard(clade)
    dash.evolve_n.value = 3
    assert dash.evolve_target() == 3
    dash.buttons["evolve"].click()
    wait_for(lambda: len(clade.phenotypes) >= 1)
    dash.buttons["stop"].click()
    dash.wait(timeout=120)
    finished = set(clade.phenotypes["model_id"])
    assert clade.generation == 0 and 1 <= len(finished) < 4
    assert clade.status == "idle" and "stopped" in clade.message
    for model_id in finished:
        assert clade.store.model_path(model_id).exists()
    assert not dash.running and not dash.buttons["evolve"].disabled


def test_show_in_sidecar_explains_the_alternative(tmp_path, monkeypatch):
    pytest.importorskip("IPython")
    dash = CladeDashboard(tiny_clade(tmp_path / "run"))
    monkeypatch.setitem(sys.modules, "sidecar", None)  # as if the package were not installed
    with pytest.raises(ImportError, match="Create New View for Output"):
        dash.show_in_sidecar()


def test_the_cpu_budget_is_split_over_the_panels_and_a_grow_in_a_cell_ends_shown(tmp_path):
    """Half of ``cpu_budget`` to the live curves, the rest evenly to the per-model panels;
    a grow run in a cell (not a dashboard job) still ends with every panel up to date."""
    clade = tiny_clade(tmp_path / "run")
    dash = CladeDashboard(clade, cpu_budget=0.02)
    shares = {name: t.cpu_share for name, t in dash.throttles().items()}
    assert shares["growth-plot"] == pytest.approx(0.01)
    assert shares["status-line"] is None
    per_model = [s for name, s in shares.items() if name not in ("growth-plot", "status-line")]
    assert len(per_model) >= 5 and sum(per_model) == pytest.approx(0.01)
    assert len(set(per_model)) == 1
    clade.spawn()
    clade.grow_models()  # on this thread, as a cell would: panels are rate-limited meanwhile
    assert dash.table.visible_ids() and len(dash.table.visible_ids()) == 3
    assert all(t._timer is None for t in dash.throttles().values() if t.name != "growth-plot")
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match=r"cpu_budget=.*allowed"):
            CladeDashboard(clade, cpu_budget=bad)
    dash.close()
