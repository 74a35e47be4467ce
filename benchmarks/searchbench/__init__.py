"""Helpers of ``benchmarks/search_quality.py``: dlgene strategies against Optuna and KerasTuner.

- :mod:`.space`: the dlgene config's search space, asked of Optuna / KerasTuner gene by gene.
- :mod:`.training`: one training procedure (caps, early stopping, scoring) for the peers.
- :mod:`.peers`: Optuna TPE + MedianPruner, KerasTuner RandomSearch and Hyperband.
- :mod:`.dlgene_runs`: a dlgene clade per strategy, and the one place that knows which
  strategy fields this dlgene version has.
- :mod:`.report`: per-data-set summaries, the markdown table and the JSON file.
"""
