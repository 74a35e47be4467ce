"""The report's scatter: models with the same size and score draw as one point that says so."""

from __future__ import annotations

from analysis_helpers import fake_run

from dlgene_core.report import scatter_figure


def test_models_with_the_same_size_and_score_are_one_larger_labelled_point(tmp_path):
    clade = fake_run(tmp_path / "run", n=8, generations=2)
    table = clade.phenotypes.copy()
    # g1-000 and g1-001 repeat g0-000's size and score (children that copied their parent)
    source = table.index[table["model_id"] == "g0-000"][0]
    for copy in ("g1-000", "g1-001"):
        row = table.index[table["model_id"] == copy][0]
        table.loc[row, ["n_params", "val_accuracy"]] = table.loc[
            source, ["n_params", "val_accuracy"]
        ]
    clade.phenotypes = table
    usable = int(table["val_accuracy"].notna().sum())  # 14: one failed model per generation
    fig = scatter_figure(clade)
    points = fig.axes[0].collections[0]
    sizes = sorted(points.get_sizes().tolist())
    assert len(sizes) == usable - 2  # three models, one point
    assert sizes[-1] == 3 * sizes[0] and sizes.count(sizes[0]) == usable - 3
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["x3"]
