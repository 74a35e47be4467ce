"""Write the example notebooks in this folder from the cell sources below.

The notebooks are generated (not hand-edited) so that they stay reviewable as Python and
can be regenerated after an API change:

    python examples/_make_notebooks.py          # rewrites examples/0*.ipynb

Every notebook reads two environment variables so that CI can run it in a scratch copy:
``DLGENE_RUNS`` (where experiment folders go, default ``dlgene-runs`` beside the notebook)
and ``DLGENE_DATA_DIR`` (the shared data folder with ``reuters_flat.npz``; see 01).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

RUNS_CELL = """\
import os
import shutil
from pathlib import Path

# Experiment folders go under DLGENE_RUNS (CI points it at a scratch folder).
RUNS = Path(os.environ.get("DLGENE_RUNS", "dlgene-runs")).resolve()
RUN_DIR = RUNS / "{name}"
shutil.rmtree(RUN_DIR, ignore_errors=True)  # a fresh run each time the notebook is executed
print("experiment folder:", RUN_DIR)"""

TINY_CONFIG_DIGITS = """\
from dlgene_core import GAFC1, CladeConfig

# A deliberately tiny search space so the notebook runs in a minute on a laptop.
config = CladeConfig(
    population_size=4,
    nb_layers=(1, 2),
    nb_units=(8, 64),
    epochs=(1, 2),
    batch_size=(32, 128),
    max_train_time=20.0,
    seed=7,
)
clade = GAFC1(config, data="digits", folder=RUN_DIR)
clade"""


def walkthrough() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell(
            "# dlgene walkthrough: evolving dense nets on Reuters, step by step\n\n"
            "This follows the original *deeplearngene* demo: one call per step of the genetic "
            "algorithm, with a look at the tables each step produces. Everything is also "
            "written to the clade's experiment folder, so a dead kernel loses nothing that "
            "finished.\n\n"
            "The population and the training are **tiny** (4 models, 1-2 epochs, a "
            "1,000-word vocabulary) so that the notebook runs in about a minute on a CPU. "
            "Raise `population_size`, `epochs` and `max_words` for real searches."
        ),
        new_code_cell(RUNS_CELL.format(name="01-walkthrough")),
        new_markdown_cell(
            "## The data: Reuters newswire topics\n\n"
            "11,228 newswires in 46 topics, as word-index sequences (the Keras data set). "
            "GAFC1 clades see each wire as a bag of words over the `max_words` most frequent "
            "words.\n\n"
            "**Where the data comes from.** If the environment variable `DLGENE_DATA_DIR` "
            "names a folder holding `reuters_flat.npz`, or the project's shared data folder "
            "(`../shared/data` beside the repository) exists, the notebook passes that file "
            "as `data_path=`, and nothing is downloaded. Otherwise it falls back to Keras' "
            "own loader, `keras.datasets.reuters.load_data`, which **downloads** the data "
            "once into `~/.keras/datasets`."
        ),
        new_code_cell(
            """\
def find_reuters() -> str:
    \"\"\"A local reuters_flat.npz, or "" to let Keras download its copy.\"\"\"
    candidates = [os.environ.get("DLGENE_DATA_DIR", ""), "../../shared/data", "../shared/data"]
    for folder in candidates:
        if folder and (Path(folder) / "reuters_flat.npz").exists():
            return str((Path(folder) / "reuters_flat.npz").resolve())
    return ""


DATA_PATH = find_reuters()
print("Reuters from:", DATA_PATH or "keras.datasets.reuters.load_data (download)")"""
        ),
        new_markdown_cell(
            "## A clade and its search space\n\n"
            "`CladeConfig` holds the search space (layer counts, units, activations, "
            "optimizers, learning-rate bins, regularizers, batch size, epochs) and the run "
            "settings. Every field is checked when it is set."
        ),
        new_code_cell(
            """\
from dlgene_core import GAFC1, CladeConfig

config = CladeConfig(
    population_size=4,
    max_words=1000,          # vocabulary: the 1,000 most frequent words
    nb_layers=(1, 2),
    nb_units=(8, 64),
    epochs=(1, 2),
    batch_size=(64, 256),
    max_train_time=20.0,     # seconds per model at most
    seed=3,
)
clade = GAFC1(config, data="reuters", data_path=DATA_PATH, folder=RUN_DIR)
clade"""
        ),
        new_code_cell(
            """\
dataset = clade.load_data()
print(clade.message)
print("input shape:", dataset.input_shape, "classes:", dataset.n_classes)"""
        ),
        new_markdown_cell(
            "## spawn: random genotypes\n\nOne row per model: its architecture and its "
            "training hyperparameters."
        ),
        new_code_cell(
            """\
genotypes = clade.spawn()
print("genotypes rows:", len(genotypes))
genotypes"""
        ),
        new_markdown_cell(
            "## seed_models: build and save the untrained models\n\n"
            "Each genotype becomes a compiled Keras model, saved as `.h5` in the folder."
        ),
        new_code_cell(
            """\
paths = clade.seed_models()
print("seed models:", len(paths))
clade.load_model(genotypes["model_id"][0], seed=True).summary()"""
        ),
        new_markdown_cell(
            "## grow_models: train and evaluate\n\n"
            "Every model trains on the training split; its validation scores are what "
            "selection uses, and the test scores are only reported."
        ),
        new_code_cell(
            """\
phenotypes = clade.grow_models()
print("phenotypes rows:", len(phenotypes))
phenotypes"""
        ),
        new_markdown_cell("## The best models so far"),
        new_code_cell("clade.best(3)"),
        new_markdown_cell(
            "## growth: one model's training curve\n\n"
            "Per-batch loss and accuracy (`level='batches'`) and per-epoch rows with "
            "validation (`level='epochs'`)."
        ),
        new_code_cell(
            """\
best_id = clade.best(1)["model_id"][0]
batches = clade.growth(best_id)
print("growth rows of", best_id, ":", len(batches))
ax = batches.plot(y=["loss", "accuracy"], secondary_y="accuracy", title=f"growth of {best_id}")
clade.growth(best_id, level="epochs")"""
        ),
        new_markdown_cell("## misclassified: test wires the best model got wrong"),
        new_code_cell(
            """\
from dlgene_core.data import REUTERS_TOPICS

wrong = clade.misclassified(best_id)
wrong = wrong.assign(
    true_topic=[REUTERS_TOPICS[i] for i in wrong["true"]],
    predicted_topic=[REUTERS_TOPICS[i] for i in wrong["predicted"]],
)
print("misclassified test wires:", len(wrong))
wrong.head(10)"""
        ),
        new_markdown_cell("## The confusion matrix (rows: true topic, columns: predicted topic)"),
        new_code_cell(
            """\
import matplotlib.pyplot as plt

matrix = clade.confusion_matrix(best_id)
print("confusion matrix shape:", matrix.shape)
fig, ax = plt.subplots(figsize=(6, 5))
image = ax.imshow(matrix, cmap="viridis")
ax.set_xlabel("predicted topic")
ax.set_ylabel("true topic")
fig.colorbar(image, ax=ax)
plt.show()"""
        ),
        new_markdown_cell(
            "## select_parents and breed\n\n"
            "The top tier (by validation accuracy) plus a random tier of the rest become "
            "parents; `breed` recombines and mutates them into generation 1."
        ),
        new_code_cell(
            """\
parents = clade.select_parents(top_tier=0.5, random_tier=0.25)
print("parents:", list(parents["model_id"]))
parents"""
        ),
        new_code_cell(
            """\
children = clade.breed()
print("generation:", clade.generation, "children:", len(children))
children[["model_id", "parents", "mutations", "nb_layers", "optimizer"]]"""
        ),
        new_markdown_cell("## One more grow: generation 1"),
        new_code_cell(
            """\
clade.grow_models()
print("phenotypes rows:", len(clade.phenotypes))
print("generations grown:", sorted(int(g) for g in clade.phenotypes["generation"].unique()))
clade.best(3)"""
        ),
        new_markdown_cell(
            "## Everything is on disk\n\n`Clade.open(folder)` restores the clade from these files."
        ),
        new_code_cell(
            """\
print(sorted(p.name for p in RUN_DIR.iterdir()))
reopened = GAFC1.open(RUN_DIR)
print(reopened)"""
        ),
    ]
    return _notebook(cells)


def dashboard() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell(
            "# The dlgene dashboard\n\n"
            "One panel for a whole clade: the config editor, the population table, live "
            "growth curves, the parent picker and the generation views, with buttons for "
            "**spawn**, **grow**, **select**, **breed**, **evolve N generations** and "
            "**stop**. Training runs in a background thread, so the panel stays responsive "
            "while models train.\n\n"
            "Data: the 8x8 handwritten digits bundled with scikit-learn."
        ),
        new_code_cell(RUNS_CELL.format(name="02-dashboard")),
        new_code_cell(TINY_CONFIG_DIGITS),
        new_markdown_cell(
            "## The dashboard\n\nClick the buttons in the panel below: **spawn**, then "
            "**grow**; watch the live curves; choose parents in the picker (tiers or by hand) "
            "and press **use these parents**, then **breed** and **grow** again. Every job runs "
            "on a background thread, so the panel answers while models train."
        ),
        new_code_cell(
            """\
from dlgene_widgets import CladeDashboard

dashboard = CladeDashboard(clade)
dashboard"""
        ),
        new_markdown_cell(
            "## Or press the buttons from code (returns at once)\n\n"
            "`dashboard.buttons` holds the buttons by name; `button.click()` runs the same "
            "handler as a click in the browser. This cell starts **evolve** for three "
            "generations (spawn, grow, select, breed, grow, ...) and returns at once: the "
            "panel above stays live, and **stop** ends the running model cleanly, keeping "
            "everything finished."
        ),
        new_code_cell(
            """\
dashboard.evolve_n.value = 3     # generations 0, 1 and 2
dashboard.buttons["evolve"].click()
print("running in the background:", dashboard.job)"""
        ),
        new_markdown_cell(
            "## Waiting for the job (this cell blocks the panel)\n\n"
            "**Run this cell only when you want the notebook to wait.** `dashboard.wait()` "
            "blocks the kernel until the job ends (and re-raises its error if it failed); "
            "while it waits, clicks in the panel are held back until the cell finishes. "
            "It is here so that the notebook also runs unattended (CI executes it top to "
            "bottom); when you are clicking, skip it."
        ),
        new_code_cell(
            """\
dashboard.wait()   # blocks: see above
print(clade.message)
print("generations grown:", sorted(int(g) for g in clade.phenotypes["generation"].unique()))
print("phenotypes rows:", len(clade.phenotypes))""",
            metadata={"tags": ["blocks-kernel"]},
        ),
        new_markdown_cell(
            "## The IPython extension\n\n"
            "`%load_ext dlgene_widgets` adds `%dlgene_dashboard` (for a clade variable or a "
            "run folder) and `%dlgene_config`. Re-opening from the folder re-creates the "
            "panels from what is on disk, e.g. after a kernel restart."
        ),
        new_code_cell("%load_ext dlgene_widgets"),
        new_code_cell("%dlgene_dashboard $RUN_DIR"),
        new_code_cell("%dlgene_config"),
    ]
    return _notebook(cells)


def pick_parents() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell(
            "# Picking parents by hand\n\n"
            "`ParentPicker` shows who the top tier and random tier would choose (a live "
            "preview as you move the sliders), and lets you tick individual models. The "
            "choice is stored in the clade (and its folder), and `breed` uses it."
        ),
        new_code_cell(RUNS_CELL.format(name="03-pick-parents")),
        new_code_cell(TINY_CONFIG_DIGITS),
        new_code_cell(
            """\
clade.spawn()
clade.grow_models()
clade.best(4)[["model_id", "val_accuracy", "test_accuracy", "status"]]"""
        ),
        new_markdown_cell("## The picker"),
        new_code_cell(
            """\
from dlgene_widgets import ParentPicker

picker = ParentPicker(clade)
picker"""
        ),
        new_markdown_cell(
            "## Tiers: move the sliders (here from code)\n\n"
            "The preview under the sliders asks the clade who the tiers would choose, so it "
            "is exactly what **use these parents** stores."
        ),
        new_code_cell(
            """\
picker.top_slider.value = 0.5
picker.random_slider.value = 0.0
print("preview:", picker.preview.value)
picker.use_button.click()
print("parents (tiers):", list(clade.parents["model_id"]))"""
        ),
        new_markdown_cell(
            "## By hand: tick the models you want\n\n"
            "Each ranked model has a checkbox (`picker.checkboxes`, best first); ticking one "
            "switches the picker to *by hand*. Here we take the best and the worst model, for "
            "variety. `clade.select_parents(model_ids=[...])` does the same without the panel."
        ),
        new_code_cell(
            """\
ranking = picker.ranking                 # best first, by validation accuracy
chosen = [ranking[0], ranking[-1]]
for model_id in chosen:
    picker.checkboxes[model_id].value = True
print("mode:", picker.mode, "picks:", picker.picks)
picker.use_button.click()
print("parents (by hand):", list(clade.parents["model_id"]))
clade.parents"""
        ),
        new_code_cell(
            """\
children = clade.breed()
print("generation:", clade.generation, "children:", len(children))
used = sorted({p for ps in children["parents"] for p in ps})
print("parents used:", used)
assert set(used) <= set(chosen)
children[["model_id", "parents", "mutations"]]"""
        ),
        new_markdown_cell(
            "## The picker after breeding\n\n"
            "The picker follows the clade into generation 1: nothing is grown there yet, so "
            "it says so (a hint, not an error), the ticks of generation 0 are cleared and "
            "it is back on the tiers. Grow generation 1 and it ranks the new models."
        ),
        new_code_cell(
            """\
print("picker mode:", picker.mode, "picks:", picker.picks)
print("picker hint:", picker.hint)
print("picker note:", picker.message.value or "(none)")
picker"""
        ),
    ]
    return _notebook(cells)


def voila_dashboard() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell(
            "# dlgene dashboard (Voila app)\n\n"
            "Serve this notebook as an app: `voila examples/04_voila_dashboard.ipynb`. "
            "Voila shows the outputs only; every visitor gets a fresh kernel and a fresh "
            "clade on the bundled digits data."
        ),
        new_code_cell(
            """\
import datetime
import os
from pathlib import Path

from dlgene_core import GAFC1, CladeConfig
from dlgene_widgets import CladeDashboard

runs = Path(os.environ.get("DLGENE_RUNS", "dlgene-runs")).resolve()
stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
folder = runs / f"04-voila-{stamp}-{os.getpid()}"
config = CladeConfig(
    population_size=6,
    nb_layers=(1, 3),
    nb_units=(8, 128),
    epochs=(2, 4),
    batch_size=(32, 128),
    max_train_time=30.0,
)
clade = GAFC1(config, data="digits", folder=folder)
CladeDashboard(clade)"""
        ),
    ]
    nb = _notebook(cells)
    nb.metadata["voila"] = {"template": "lab"}
    return nb


def _notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    return nb


NOTEBOOKS = {
    "01_walkthrough.ipynb": walkthrough,
    "02_dashboard.ipynb": dashboard,
    "03_pick_parents_by_hand.ipynb": pick_parents,
    "04_voila_dashboard.ipynb": voila_dashboard,
}


def main(folder: Path = HERE) -> list[Path]:
    written = []
    for name, build in NOTEBOOKS.items():
        nb = build()
        for i, cell in enumerate(nb.cells):  # stable ids keep regenerated files diff-free
            cell.id = f"{Path(name).stem[:2]}-{i:02d}"
        nbformat.validate(nb)
        path = folder / name
        nbformat.write(nb, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print("wrote", path)
