"""ParentPicker: choose the parents of the next generation with tier sliders or by hand.

The preview asks the core who the tiers would choose (``clade.preview_parents``) so it is
exactly what ``select_parents`` will store; "use these parents" stores the choice in the
core and the run folder, so ``breed`` uses it and a new picker shows it again.

Two modes that never mix: in "tiers" the sliders choose and no model is ticked; in "by hand"
the ticks choose and the sliders are disabled. A generation with nothing grown yet is a
normal state (a grey hint), not an error; a new generation starts the picker afresh.
"""

from __future__ import annotations

import html
import threading

import ipywidgets as widgets
import numpy as np
import pandas as pd
from traitlets import Float, Int, List, Unicode, observe

from dlgene_core import Clade
from dlgene_core.population import rank

from ._genotype_text import short_genotype
from ._hints import error, hint
from ._panel import Panel

TIERS, MANUAL = "tiers", "manual"
# RELEASE_ONLY: the sliders send their value when a drag ends, not on every step. While one
# update is in flight the browser holds back a widget's later ones, but a button click goes
# at once; with continuous updates a drag followed by "use these parents" could store the
# parents of an intermediate value, not the ones the preview shows.


class ParentPicker(Panel):
    """Tier sliders with a live preview, per-model picks and a top-K-by-rank slider."""

    top_tier = Float(0.2, help="share of the best models kept as parents")
    random_tier = Float(0.1, help="share of the other models drawn at random")
    mode = Unicode(TIERS, help="'tiers' (sliders) or 'manual' (picked models)")
    picks = List(Unicode(), help="models picked by hand, best first")
    ranking = List(Unicode(), help="usable models of the current generation, best first")
    preview_ids = List(Unicode(), help="who 'use these parents' would choose now")
    preview_error = Unicode("", help="why the preview failed (an error, shown red)")
    hint = Unicode("", help="why there is nothing to preview yet (a normal state, shown grey)")
    top_k = Int(0, help="the top-K slider over the ranking")

    def __init__(self, clade: Clade, max_rate_hz: float = 2.0):
        super().__init__()
        self.clade = clade
        self._lock = threading.RLock()
        self._generation = int(clade.generation)
        self.top_tier, self.random_tier = clade.config.top_tier, clade.config.random_tier
        self.top_slider = widgets.FloatSlider(
            value=self.top_tier,
            min=0.0,
            max=1.0,
            step=0.05,
            description="top tier",
            readout_format=".2f",
            continuous_update=False,  # see RELEASE_ONLY
        ).add_class("dlgene-top-tier")
        self.random_slider = widgets.FloatSlider(
            value=self.random_tier,
            min=0.0,
            max=1.0,
            step=0.05,
            description="random tier",
            readout_format=".2f",
            continuous_update=False,  # see RELEASE_ONLY
        ).add_class("dlgene-random-tier")
        self.mode_buttons = widgets.ToggleButtons(
            options=[("top + random tiers", TIERS), ("by hand", MANUAL)], value=TIERS
        )
        self.rank_slider = widgets.IntSlider(
            value=0,
            min=0,
            max=0,
            description="top K by rank",
            continuous_update=False,  # see RELEASE_ONLY
            style={"description_width": "initial"},
        ).add_class("dlgene-top-k")
        self.checkboxes: dict[str, widgets.Checkbox] = {}
        self._box_pool: list[widgets.Checkbox] = []
        self.manual_box = widgets.VBox(
            layout=widgets.Layout(max_height="260px", overflow="auto")
        ).add_class("dlgene-manual-picks")
        self.preview = widgets.HTML("").add_class("dlgene-parent-preview")
        self.use_button = widgets.Button(
            description="use these parents", button_style="success"
        ).add_class("dlgene-btn-use-parents")
        self.message = widgets.HTML("")
        self.stored = widgets.HTML("").add_class("dlgene-stored-parents")
        widgets.link((self.top_slider, "value"), (self, "top_tier"))
        widgets.link((self.random_slider, "value"), (self, "random_tier"))
        widgets.link((self.mode_buttons, "value"), (self, "mode"))
        widgets.link((self.rank_slider, "value"), (self, "top_k"))
        self.use_button.on_click(self._on_use)
        self.children = [
            widgets.HTML("<b>Parents</b>"),
            self.mode_buttons,
            self.top_slider,
            self.random_slider,
            self.rank_slider,
            self.manual_box,
            self.preview,
            widgets.HBox([self.use_button, self.message]),
            self.stored,
        ]
        self.add_class("dlgene-parent-picker")
        self.follow(clade, ["phenotypes", "generation", "parents"], max_rate_hz, "parent-picker")
        self.refresh()
        self._adopt_stored()
        self._enable_sliders()

    # ------------------------------------------------------------------ core -> panel
    def refresh(self) -> None:
        """Re-rank the current generation, rebuild the picks list and the preview."""
        with self._lock:
            if int(self.clade.generation) != self._generation:
                self._new_generation()
            phenotypes = self.clade.generation_phenotypes()
            metric = self.clade.config.selection_metric
            ranked = rank(phenotypes, metric) if len(phenotypes) else pd.DataFrame()
            ids = [str(m) for m in ranked["model_id"]] if len(ranked) else []
            if ids != self.ranking:
                self._rebuild_checkboxes(ranked, metric)
                self.ranking = ids
                with self.setting_itself():
                    self.rank_slider.max = len(ids)
                self.picks = [m for m in self.picks if m in ids]
            self._update_preview()
            self._show_stored()

    def _new_generation(self) -> None:
        """A bred generation: the last one's picks, ticks and "stored" note no longer apply."""
        self._generation = int(self.clade.generation)
        self.message.value = ""
        with self.setting_itself():
            self.picks = []
            self.rank_slider.value = 0
        self.mode = TIERS

    def _rebuild_checkboxes(self, ranked: pd.DataFrame, metric: str) -> None:
        """One checkbox per ranked model, from a pool that only grows to the largest
        generation: a box is relabelled for the model now at its rank, never made per model
        (closed widgets' views stayed in the browser: about 25 DOM nodes per model)."""
        genotypes = self.clade.genotypes
        by_id = genotypes.set_index("model_id") if len(genotypes) else None
        rows = ranked.to_dict("records")
        while len(self._box_pool) < len(rows):
            box = widgets.Checkbox(value=False, indent=False, layout=widgets.Layout(width="auto"))
            box.observe(self._on_checkbox, names="value")
            self._box_pool.append(box)
        self.checkboxes = {}
        with self.setting_itself():  # relabelling is not a pick
            for position, (box, row) in enumerate(zip(self._box_pool, rows, strict=False), start=1):
                model_id = str(row["model_id"])
                genotype = (
                    by_id.loc[model_id].to_dict()
                    if by_id is not None and model_id in by_id.index
                    else {}
                )
                classes = [c for c in box._dom_classes if not c.startswith("dlgene-pick-")]
                with box.hold_sync():
                    box.description = candidate_label(position, row, metric, genotype)
                    box.value = model_id in self.picks
                    box._dom_classes = (*classes, f"dlgene-pick-{model_id}")
                    box.layout.display = None
                self.checkboxes[model_id] = box
            for box in self._box_pool[len(rows) :]:
                box.value = False
                box.layout.display = "none"
        if list(self.manual_box.children) != self._box_pool:
            self.manual_box.children = list(self._box_pool)

    def _adopt_stored(self) -> None:
        parents = self.clade.parents
        if len(parents) and set(parents["reason"]) == {"manual"}:
            self.picks = [str(m) for m in parents["model_id"]]
            self.mode = MANUAL

    def _show_stored(self) -> None:
        parents = self.clade.parents
        generation = int(self.clade.generation)
        if parents.empty:
            text = f"no parents stored for generation {generation} yet"
            if generation > 0:
                text += f" (generation {generation - 1}'s parents bred it)"
        else:
            text = (
                f"stored parents of generation {int(parents['generation'].iloc[0])}: "
                + ", ".join(
                    f"{m} ({r})"
                    for m, r in zip(parents["model_id"], parents["reason"], strict=True)
                )
            )
        self.stored.value = hint(text)

    # ------------------------------------------------------------------ panel state
    @observe("top_tier", "random_tier")
    def _on_tiers(self, _change) -> None:
        if not hasattr(self, "_throttle"):
            return
        self.mode = TIERS
        self._update_preview()

    @property
    def tiers_apply(self) -> bool:
        """The tier sliders are the clade strategy's own settings only for 'tiers'."""
        return self.clade.config.strategy == "tiers"

    @observe("top_k")
    def _on_top_k(self, change) -> None:
        if not hasattr(self, "_throttle") or not self.picked_by_hand:
            return
        self.picks = self.ranking[: change["new"]]
        self.mode = MANUAL

    def _on_checkbox(self, change) -> None:
        if not self.picked_by_hand:
            return
        picked = {m for m, box in self.checkboxes.items() if box.value}
        self.picks = [m for m in self.ranking if m in picked]
        self.mode = MANUAL

    @observe("picks")
    def _on_picks(self, change) -> None:
        if not hasattr(self, "_throttle"):
            return
        with self.setting_itself():
            for model_id, box in self.checkboxes.items():
                box.value = model_id in change["new"]
        self._update_preview()

    @observe("mode")
    def _on_mode(self, change) -> None:
        if not hasattr(self, "_throttle"):
            return
        if change["new"] == TIERS and self.picks:  # the tiers choose now: no stale ticks
            with self.setting_itself():
                self.picks = []
                self.rank_slider.value = 0
        self._enable_sliders()
        self._update_preview()

    def _enable_sliders(self) -> None:
        """Tier sliders only where they choose: in tiers mode, for the 'tiers' strategy."""
        off = self.mode == MANUAL or not self.tiers_apply
        self.top_slider.disabled = self.random_slider.disabled = off

    def _update_preview(self) -> None:
        generation = int(self.clade.generation)
        if self.clade.generation_phenotypes().empty:  # a normal state: nothing grown yet
            self.preview_ids, self.preview_error = [], ""
            self.hint = (
                f"nothing to choose from yet: generation {generation} has no grown models; "
                "press grow (or call grow_models) first"
            )
            self.preview.value = hint(self.hint)
            return
        self.hint = ""
        if self.mode == MANUAL:
            self.preview_ids, self.preview_error = list(self.picks), ""
            reason = "picked by hand" if self.picks else "tick at least one model"
        else:
            tiers = (self.top_tier, self.random_tier) if self.tiers_apply else (None, None)
            try:
                chosen = self.clade.preview_parents(*tiers)
            except (ValueError, RuntimeError) as exc:  # e.g. no usable model: say so, red
                self.preview_ids, self.preview_error = [], str(exc)
                self.preview.value = error(
                    f"{exc} (pick models by hand, or grow more models of this generation)"
                )
                return
            self.preview_ids, self.preview_error = [str(m) for m in chosen["model_id"]], ""
            reason = ", ".join(
                f"{m} ({r})" for m, r in zip(chosen["model_id"], chosen["reason"], strict=True)
            )
            if self.tiers_apply:
                reason = f"top {self.top_tier:.2f} + random {self.random_tier:.2f}: {reason}"
            else:
                reason = f"strategy {self.clade.config.strategy}: {reason}"
        ids = ", ".join(self.preview_ids) if self.mode == MANUAL else ""
        text = f"would choose {len(self.preview_ids)}: {reason}" + (f" — {ids}" if ids else "")
        self.preview.value = html.escape(text)

    # ------------------------------------------------------------------ panel -> core
    def use_parents(self) -> pd.DataFrame:
        """Store the previewed choice in the core (and the run folder); ``breed`` uses it."""
        if self.mode == MANUAL:
            if not self.picks:
                raise ValueError("use_parents: no models picked; allowed: at least one model id")
            chosen = self.clade.select_parents(model_ids=list(self.picks))
        elif self.tiers_apply:
            chosen = self.clade.select_parents(top_tier=self.top_tier, random_tier=self.random_tier)
        else:
            chosen = self.clade.select_parents()
        self._show_stored()
        return chosen

    def _on_use(self, _button) -> None:
        try:
            chosen = self.use_parents()
        except Exception as exc:  # shown beside the button: the user must see why
            self.message.value = error(f"{type(exc).__name__}: {exc}")
            return
        how = ""
        if self.mode == TIERS and self.tiers_apply:
            how = f" (top {self.top_tier:.2f} + random {self.random_tier:.2f})"
        self.message.value = html.escape(
            f"stored {len(chosen)} parents for generation {self.clade.generation}{how}"
        )


def candidate_label(position: int, row: dict, metric: str, genotype: dict) -> str:
    """One ranked model as a checkbox reads it: rank, id, metric, size, time, genotype."""
    parts = [f"{position}. {row['model_id']}", f"{metric} {_number(row.get(metric), '.4f')}"]
    if np.isfinite(_float(row.get("n_params"))):
        parts.append(f"{int(_float(row['n_params'])):,} params")
    if np.isfinite(_float(row.get("train_time"))):
        parts.append(f"{_float(row['train_time']):.1f} s")
    if row.get("status") not in (None, "ok"):
        parts.append(str(row["status"]))
    short = short_genotype(genotype)
    if short:
        parts.append(short)
    return " · ".join(parts)


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _number(value, spec: str) -> str:
    number = _float(value)
    return format(number, spec) if np.isfinite(number) else "n/a"
