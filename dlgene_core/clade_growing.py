"""Seeding and growing a clade's models: jobs, executors, duplicates, pruning thresholds,
and the events and results that flow back into the clade's traits and folder.

A mixin of :class:`~dlgene_core.clade.Clade` (which holds the state it uses), kept in its
own file so the clade itself reads as state plus orchestration.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .dedup import duplicate_ids
from .events import result_event
from .modelfiles import save_h5_quietly
from .operators import from_row
from .records import USABLE_STATUSES, GrowJob, ModelResult
from .trainer import build_model, model_seed


class GrowingMixin:
    """``seed_models``, ``grow_models`` and the result/event plumbing of a clade."""

    # ------------------------------------------------------------------ seed
    def seed_models(self) -> list[Path]:
        """Build and save every current genotype as an untrained .h5 model (built exactly
        as growing builds it: same seed, same repairs)."""
        self.store.check_writable()
        dataset = self._need_data()
        self._need_genotypes("seed_models")
        paths = []
        with self._busy("seeding"):
            for row in self.genotypes.itertuples(index=False):
                path = self.store.model_path(row.model_id, seed=True)
                paths.append(path)
                if path.exists():
                    continue
                seed = model_seed(self.config.seed, row.model_id)
                try:
                    model, _, _ = build_model(
                        self.config.kind, self.genotype(row.model_id), dataset, self.config, seed
                    )
                except Exception as exc:  # recorded when grown; seeding goes on
                    self.message = f"{row.model_id} cannot be built: {exc}"
                    continue
                tmp = path.with_name(f".{path.name}.tmp.h5")
                save_h5_quietly(model, tmp)
                os.replace(tmp, path)
        return paths

    # ------------------------------------------------------------------ grow
    def jobs(self, model_ids: Sequence[str] | None = None) -> list[GrowJob]:
        """Jobs for the current generation's models that have not finished yet."""
        rows = self.genotypes
        if model_ids is not None:
            unknown = sorted(set(model_ids) - set(rows["model_id"]))
            if unknown:
                raise KeyError(
                    f"grow_models: model_ids {unknown} are not in generation {self.generation}"
                )
            rows = rows[rows["model_id"].isin(model_ids)]
        return self._jobs_for(rows)

    def _jobs_for(self, rows: pd.DataFrame) -> list[GrowJob]:
        """Jobs for the genotype rows that are neither finished nor duplicates."""
        if rows.empty:
            return []
        done = self._finished_ids()
        config = self.config.to_dict()
        repeats = duplicate_ids(rows)
        blocks = {int(g): set(self._startup_block(int(g))) for g in rows["generation"].unique()}
        thresholds: dict[tuple[int, bool], list[float]] = {}
        jobs = []
        for _, r in rows.iterrows():
            if r["model_id"] in done or r["model_id"] in repeats:
                continue
            generation = int(r["generation"])
            key = (generation, r["model_id"] in blocks[generation])
            if key not in thresholds:
                thresholds[key] = self._prune_thresholds(generation, in_startup_block=key[1])
            jobs.append(
                GrowJob(
                    model_id=r["model_id"],
                    generation=generation,
                    kind=r["kind"],
                    genotype=from_row(self.family, r),
                    seed=model_seed(self.config.seed, r["model_id"]),
                    config=config,
                    prune_thresholds=thresholds[key],
                )
            )
        return jobs

    def grow_models(
        self, executor: Any = None, model_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Train and evaluate the unfinished models of the current generation.

        Each model's results reach the folder as it finishes; a failing model is recorded
        with its reason and the others go on. Returns this generation's phenotypes.
        """
        from .executors import executor_for

        self._need_genotypes("grow_models")
        self._need_data()
        if self.config.tensorboard:  # fail before training, not after the first model
            from .tensorboard import require_tensorboard

            require_tensorboard()
        jobs = self.jobs(model_ids)
        if self.status != "evolving":  # inside evolve, a stop pressed between steps holds
            self._stop.clear()
        total = len(self.genotypes)
        self.progress = (total - len(jobs), total)
        with self._busy("growing"), executor_for(executor, self.config) as runner:
            self._grow_in_phases(runner, jobs, model_ids)
        self.record_duplicates()
        stopped = self._stop.is_set()
        self.message = (
            f"stopped: {self.progress[0]}/{total} models of generation {self.generation} finished"
            if stopped
            else f"generation {self.generation}: {self.progress[0]}/{total} models grown"
        )
        return self.generation_phenotypes()

    def _grow_in_phases(
        self, runner: Any, jobs: list[GrowJob], model_ids: Sequence[str] | None
    ) -> None:
        """The startup block first where the pruner needs it as its reference, then the
        other models, with thresholds made from the block's curves."""
        block = set(self._startup_block(self.generation))
        first = [job for job in jobs if job.model_id in block]
        if first and len(first) < len(jobs):
            self.run_jobs(runner, first)
            if self._stop.is_set():
                return
            jobs = self.jobs(model_ids)
        self.run_jobs(runner, jobs)

    def run_jobs(self, runner: Any, jobs: Any, on_result: Any = None) -> None:
        """Hand jobs (a list or an open JobFeed) to an executor; results reach the folder."""
        try:
            runner.run(
                jobs,
                self.data_spec,
                self._on_event,
                on_result or self._on_result,
                self._stop.is_set,
            )
        finally:
            self.running_models = []
            self.current_model = ""

    def record_duplicates(self) -> None:
        """Give each unfinished duplicate the result of the model it repeats (not trained)."""
        done = self._finished_ids()
        by_id = self.phenotypes.set_index("model_id") if len(self.phenotypes) else None
        table = self._all_genotypes
        for model_id, original in duplicate_ids(table).items():
            if model_id in done or by_id is None or original not in done:
                continue
            row = table[table["model_id"] == model_id].iloc[0]
            source = by_id.loc[original]
            phenotype = {k: _plain(v) for k, v in source.to_dict().items()}
            phenotype.update(
                model_id=model_id,
                generation=int(row["generation"]),
                status="duplicate",
                reason=f"same genotype as {original} ({source['status']}); not trained",
                duplicate_of=original,
                worker="",
                train_time=0.0,
            )
            growth = [self._growth_or_empty(original, level) for level in ("batches", "epochs")]
            self._on_result(ModelResult(model_id, phenotype, *growth))

    def _growth_or_empty(self, model_id: str, level: str) -> pd.DataFrame:
        try:
            return self.store.read_growth(model_id, level)
        except KeyError:  # a model that failed before its first batch
            return pd.DataFrame()

    def _prune_thresholds(
        self, generation: int | None = None, *, in_startup_block: bool = False
    ) -> list[float]:
        """Per-epoch values a model of ``generation`` (default: the current one) must reach
        to go on (NaN: no check), from the completed models of earlier generations and,
        while those are fewer than ``pruner_startup_models``, from the generation's own
        startup block (which itself trains unpruned: ``in_startup_block``).

        Computed here, when jobs are made, so that workers need no shared state. The
        reference set is fixed by model ids, not by finishing order (the block trains
        before the rest of its generation), so the thresholds are the same on any
        executor and after a resume."""
        from .pruning import prune_thresholds

        if self.config.pruner == "none" or self.phenotypes.empty:
            return []
        generation = self.generation if generation is None else generation
        completed = self._completed_ids()
        reference = [m for m, g in completed.items() if g < generation]
        if not in_startup_block:  # the block is empty once earlier generations suffice
            block = set(self._startup_block(generation))
            reference += [m for m in completed if m in block]
        curves = [self._val_curve(m) for m in reference]
        return prune_thresholds(self.config, [c for c in curves if len(c)])

    def _startup_block(self, generation: int) -> list[str]:
        """The first ``pruner_startup_models`` models of ``generation``, which train
        unpruned to give the pruner its reference curves, when earlier generations hold
        fewer completed models than that (generation 0, usually); else none."""
        if self.config.pruner == "none":
            return []
        startup = self.config.pruner_startup_models
        completed = self._completed_ids()
        if sum(1 for g in completed.values() if g < generation) >= startup:
            return []
        table = self._all_genotypes
        if table.empty:
            return []
        ids = table.loc[table["generation"] == generation, "model_id"].tolist()
        return ids[:startup]

    def _completed_ids(self) -> dict[str, int]:
        """Model id -> generation of the models that trained to the end (ok, timed_out)."""
        table = self.phenotypes
        if table.empty:
            return {}
        done = table[table["status"].isin(USABLE_STATUSES)]
        return dict(zip(done["model_id"], done["generation"].astype(int), strict=True))

    def _val_curve(self, model_id: str) -> list[float]:
        cache = self._curves
        if model_id not in cache:
            epochs = self.store.read_growth(model_id, "epochs")
            metric = self.config.selection_metric
            cache[model_id] = [] if epochs.empty else [float(v) for v in epochs[metric].to_numpy()]
        return cache[model_id]

    def add_listener(self, listener) -> None:
        """Receive every raw training event (batch, epoch, start, result) as a dict."""
        self._listeners.append(listener)

    def remove_listener(self, listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "batch":
            self.last_batch = event
        elif kind == "epoch":
            self.last_epoch = event
        elif kind == "start":
            self.current_model = event["model_id"]
            if event["model_id"] not in self.running_models:
                self.running_models = [*self.running_models, event["model_id"]]
        for listener in list(self._listeners):
            listener(event)

    def _on_result(self, result: ModelResult) -> None:
        if result.status == "stopped":
            self._on_event(result_event(result.model_id, "stopped"))
            self.running_models = [m for m in self.running_models if m != result.model_id]
            return
        with self._lock:
            self.store.write_result(result)
            row = pd.DataFrame([{k: v for k, v in result.phenotype.items() if k != "traceback"}])
            old = self.phenotypes
            old = old[old["model_id"] != result.model_id] if len(old) else old
            self.phenotypes = pd.concat([old, row], ignore_index=True) if len(old) else row
            self.running_models = [m for m in self.running_models if m != result.model_id]
            self.progress = (self._n_finished(self.generation), len(self.genotypes))
        if self.config.tensorboard:
            from .tensorboard import write_model

            write_model(self, result.model_id)
        self._on_event(result_event(result.model_id, result.status, result.phenotype))

    def stop(self) -> None:
        """Ask training to stop: the running model ends cleanly at its next batch and is not
        recorded (it will be grown again on resume); finished models are all kept."""
        self._stop.set()
        self.message = "stopping..."

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
