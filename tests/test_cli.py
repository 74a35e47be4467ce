"""The dlgene command: evolve, resume, show and --set errors, through cli.main."""

from __future__ import annotations

import pandas as pd
import pytest

from dlgene_core import Clade
from dlgene_core.cli import main

SMALL = [
    *("--set", "population_size=2", "--set", "epochs=1,2", "--set", "nb_units=4,16"),
    *("--set", "nb_layers=1,2", "--set", "batch_size=16,64", "--set", "optimizers=adam,nadam"),
    *("--set", "lr_bins=[[0.001,0.01]]", "--set", "max_train_time=30"),
]


@pytest.mark.slow
def test_evolve_resume_show(tmp_path, capsys) -> None:
    folder = tmp_path / "w"
    rc = main(["evolve", "--data", "wine", "--out", str(folder), "--generations", "2", *SMALL])
    assert rc == 0
    out, err = capsys.readouterr()
    assert "gen 0 [" in err and "2/2" in err  # the progress bar
    assert "GAFC1 in" in out and "2 generations (0-1), 4 models recorded" in out
    assert "best genotype (" in out
    clade = Clade.open(folder)
    assert clade.config.population_size == 2 and clade.config.epochs == (1, 2)
    assert clade.config.optimizers == ["adam", "nadam"]
    assert clade.generation == 1 and len(clade.phenotypes) == 4

    rc = main(["resume", str(folder), "--generations", "3", "--quiet"])
    assert rc == 0
    out, err = capsys.readouterr()
    assert "gen 2 [" not in err  # --quiet
    assert "3 generations (0-2), 6 models recorded" in out
    clade = Clade.open(folder)
    assert clade.generation == 2
    assert sorted(set(clade.phenotypes["generation"])) == [0, 1, 2]
    assert len(clade.lineage()) > 0

    rc = main(["show", str(folder), "--top", "2"])
    assert rc == 0
    out, _ = capsys.readouterr()
    best = clade.best(2)
    ids = set(clade.phenotypes["model_id"])
    shown = [w[0] for w in (line.split() for line in out.splitlines()) if w and w[0] in ids]
    assert shown == list(best["model_id"])
    assert f"best genotype ({best['model_id'][0]})" in out
    assert isinstance(clade.phenotypes, pd.DataFrame)


def test_set_errors_are_clear(tmp_path, capsys) -> None:
    folder = tmp_path / "bad"
    rc = main(["evolve", "--data", "wine", "--out", str(folder), "--set", "population_size=x"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "dlgene: error:" in err and "'population_size'" in err and "'x'" in err
    assert not folder.exists()  # nothing is created for a bad command
    rc = main(["evolve", "--data", "wine", "--out", str(folder), "--set", "epochs=5,2"])
    assert rc == 2
    assert "'epochs'" in capsys.readouterr().err
    rc = main(["evolve", "--data", "wine", "--out", str(folder), "--set", "colour=red"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "'colour'" in err and "population_size" in err
    rc = main(["show", str(tmp_path / "missing")])
    assert rc == 2
    assert "not a dlgene experiment folder" in capsys.readouterr().err
    rc = main(["evolve", "--data", "imagenet", "--out", str(folder)])
    assert rc == 2
    assert "imagenet" in capsys.readouterr().err
