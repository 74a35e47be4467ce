"""CladeConfig: the search space and run settings of a clade, as observable traitlets.

``CladeConfig()`` is the "default" preset; ``CladeConfig.from_preset("classic")`` is the
original deeplearngene ``environment.py`` space exactly (``PRESETS`` lists what differs).
Every field validates on assignment, so a bad value never reaches a clade, and the message
names the field.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from traitlets import Bool, Dict, Float, HasTraits, Int, List, TraitError, Tuple, Unicode, validate

from .errors import ConfigError
from .strict import check_value, unknown_field

ALL_ACTIVATIONS = (
    "softmax",
    "elu",
    "softplus",
    "softsign",
    "relu",
    "tanh",
    "sigmoid",
    "hard_sigmoid",
    "linear",
    "selu",
    "gelu",
    "swish",
)
ALL_OPTIMIZERS = ("sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam")
ALL_REGULARIZERS = ("l1", "l2", "dropout")
SELECTION_METRICS = ("val_accuracy", "val_loss")
# Phenotype columns a model may be judged on (numeric; the test split never selects).
OBJECTIVE_COLUMNS = (
    "val_accuracy",
    "val_loss",
    "train_accuracy",
    "train_loss",
    "n_params",
    "train_time",
    "epochs_run",
    "batches_run",
)
OBJECTIVE_DIRECTIONS = ("max", "min")
EXECUTORS = ("inprocess", "pool", "dask")
EVOLUTION_MODES = ("auto", "generational", "steady")
RNN_CELLS = ("gru", "lstm", "simple_rnn")
POOLINGS = ("max", "average", "none")
PADDINGS = ("same", "valid")
CONV_READOUTS = ("flatten", "global_average", "global_max")
FINAL_ACTIVATIONS = ("softmax", "sigmoid", "linear")
STRATEGIES = ("tiers", "aging", "random", "nsga2")
PRUNERS = ("none", "median", "halving")
# Hidden activations that train (the 2017 list also held softmax, linear, hard_sigmoid, ...).
TRAINING_ACTIVATIONS = ("relu", "elu", "selu", "gelu", "swish", "tanh")
# Learning rates per optimizer family, log-uniform: an optimizer's own name, else "sgd" or
# "adaptive" (every other optimizer).
DEFAULT_LR_RANGES = {"adaptive": (1e-4, 1e-2), "sgd": (1e-3, 3e-1)}
# adagrad and adadelta barely move at these rates in Keras 3; the classic preset keeps them
DEFAULT_OPTIMIZERS = ("adam", "nadam", "adamax", "rmsprop", "sgd")
# Bounds a user would accept: far above any real search, low enough to stop a typo
# (population_size=10**9) before it allocates or runs for years.
MAX_POPULATION = 10_000
MAX_GENERATIONS = 100_000
MAX_SEED = 2**32 - 1  # keras.utils.set_random_seed / numpy legacy seeds take 32 bits
MAX_TRAIN_TIME = 30 * 24 * 3600.0  # 30 days a model

# Integer (low, high) ranges, inclusive, with the smallest low and largest high allowed.
INT_RANGES: dict[str, tuple[int, int]] = {
    "nb_layers": (1, 64),
    "nb_units": (1, 8192),
    "batch_size": (1, 65536),
    "epochs": (1, 10000),
    "conv_blocks": (1, 16),
    "conv_filters": (1, 1024),
    "kernel_size": (1, 64),
    "strides": (1, 8),
    "rnn_layers": (1, 8),
    "rnn_units": (1, 2048),
    "embedding_dim": (1, 1024),
    "head_layers": (0, 64),
}
FLOAT_RANGES: dict[str, tuple[float, float]] = {
    "l1_strength": (0.0, 1.0),
    "l2_strength": (0.0, 1.0),
    "dropout_rate": (0.0, 0.95),
    "recurrent_dropout_rate": (0.0, 0.95),
}
PROBABILITIES = (
    "regularizer_chance",
    "top_tier",
    "random_tier",
    "mutate_prob",
    "batchnorm_chance",
    "residual_chance",
    "bidirectional_chance",
    "conv_front_chance",
    "recurrent_dropout_chance",
)


def _int_range_trait(default: tuple[int, int], help: str) -> Tuple:
    return Tuple(Int(), Int(), default_value=default, help=help).tag(config=True)


def _float_range_trait(default: tuple[float, float], help: str) -> Tuple:
    return Tuple(Float(), Float(), default_value=default, help=help).tag(config=True)


def _probability(default: float, help: str) -> Float:
    return Float(default, help=help).tag(config=True)


class CladeConfig(HasTraits):
    """Search space and run settings. Edit it in place (the widgets do) or with ``updated``."""

    def __init__(self, **values: Any):
        fields = self._config_traits()
        for key in values:
            if key not in fields:
                raise unknown_field(key, values[key], fields)
        super().__init__(**values)

    @classmethod
    def _config_traits(cls) -> dict[str, Any]:
        cached = cls.__dict__.get("_config_trait_cache")
        if cached is None:
            cached = cls.class_traits(config=True)
            cls._config_trait_cache = cached
        return cached

    def __setattr__(self, name: str, value: Any) -> None:
        """Every assignment is type-checked strictly (True is not 1, "8" is not 8) and any
        traitlets refusal becomes a ConfigError naming the field."""
        trait = self._config_traits().get(name)
        if trait is None:
            super().__setattr__(name, value)
            return
        check_value(name, trait, value)
        try:
            super().__setattr__(name, value)
        except ConfigError:
            raise
        except TraitError as exc:
            raise ConfigError(name, value, str(exc)) from None

    # --- run ---------------------------------------------------------------------------
    kind = Unicode("GAFC1", help="clade kind: a registered family (dlgene_core.families)").tag(
        config=True
    )
    population_size = Int(50, help="models per generation").tag(config=True)
    generations = Int(5, help="generations evolve() grows in total").tag(config=True)
    seed = Int(0, help="every random choice flows from this seed").tag(config=True)
    max_train_time = Float(120.0, help="seconds of training per model before it is stopped").tag(
        config=True
    )
    validation_fraction = Float(0.1, help="share of the training split held out").tag(config=True)
    selection_metric = Unicode("val_accuracy", help="metric parents are ranked on").tag(config=True)
    objectives = List(
        Tuple(Unicode(), Unicode()),
        default_value=[],
        help="(column, 'max'|'min') pairs models are ranked on (Pareto front when several);"
        " empty: selection_metric alone",
    ).tag(config=True)
    deterministic = Bool(True, help="TensorFlow op determinism (repeatable on CPU)").tag(
        config=True
    )
    executor = Unicode("inprocess", help="where models train: " + ", ".join(EXECUTORS)).tag(
        config=True
    )
    workers = Int(0, help="worker processes for the pool executor (0: one per core)").tag(
        config=True
    )
    scheduler = Unicode("", help="Dask scheduler address for the dask executor").tag(config=True)
    retries = Int(0, help="times a model whose worker died is tried again").tag(config=True)
    evolution = Unicode(
        "auto",
        help="evolve(): 'generational' (breed when a generation is grown), 'steady' (a child"
        " whenever a worker frees up) or 'auto' (steady for aging, else generational)",
    ).tag(config=True)
    max_train_steps = Int(
        0, help="batch steps per model before it stops (0: no cap); repeatable, unlike time"
    ).tag(config=True)
    early_stopping_patience = Int(
        3, help="epochs without a better val loss before a model stops (0: off); best kept"
    ).tag(config=True)
    # --- search --------------------------------------------------------------------------
    strategy = Unicode("tiers", help="how children are chosen: " + ", ".join(STRATEGIES)).tag(
        config=True
    )
    sample_size = Int(5, help="aging: tournament size among the last population_size").tag(
        config=True
    )
    aging_crossover = Float(0.0, help="aging: chance a child crosses two winners").tag(config=True)
    pruner = Unicode("median", help="stop hopeless models early: " + ", ".join(PRUNERS)).tag(
        config=True
    )
    # 0, as Optuna's MedianPruner. Replayed on six unpruned runs' curves (digits 5 seeds,
    # Reuters 1; benchmarks/pruner_replay.py) it saved 5-10 points more of the epochs than 1
    # and stopped the same 17 of 52 top-tier parents.
    pruner_warmup_epochs = Int(0, help="epochs every model trains before it may be pruned").tag(
        config=True
    )
    pruner_startup_models = Int(
        5, help="models that must finish unpruned before the pruner acts"
    ).tag(config=True)
    halving_rate = Int(3, help="halving: keep the best 1/rate at each rung").tag(config=True)
    tensorboard = Bool(
        False, help="write TensorBoard scalars and HParams under FOLDER/tensorboard"
    ).tag(config=True)
    # --- data --------------------------------------------------------------------------
    max_words = Int(10000, help="vocabulary size for text data sets").tag(config=True)
    sequence_length = Int(200, help="token sequences are padded/truncated to this").tag(config=True)
    stratify = Bool(True, help="validation (and built-in test) splits keep class shares").tag(
        config=True
    )
    min_validation_samples = Int(
        50, help="a smaller validation split is grown (stratified, up to half); 0: off"
    ).tag(config=True)
    min_validation_per_class = Int(
        10, help="fewer validation samples per class (on average) grow the split; 0: off"
    ).tag(config=True)
    normalize = Bool(
        True,
        help="a Normalization layer adapted on the training split (numeric inputs; 0/1"
        " features are centred, not scaled)",
    ).tag(config=True)
    # --- dense (GAFC1) genes -----------------------------------------------------------
    lr_bins = List(
        Tuple(Float(), Float()),
        default_value=[(1e-3, 1e-2), (1e-2, 1e-1), (1e-1, 0.5)],
        help="learning-rate bins: a bin is drawn uniformly, then a log-uniform rate inside it",
    ).tag(config=True)
    lr_ranges = Dict(
        default_value=dict(DEFAULT_LR_RANGES),
        help="learning rate (low, high) per optimizer family, log-uniform: an optimizer's name,"
        " 'sgd' or 'adaptive'; empty: lr_bins",
    ).tag(config=True)
    nb_layers = _int_range_trait((1, 12), "hidden dense layers (low, high)")
    nb_units = _int_range_trait((2, 512), "units per dense layer (low, high)")
    activations = List(Unicode(), default_value=list(TRAINING_ACTIVATIONS)).tag(config=True)
    final_activation = Unicode("softmax").tag(config=True)
    optimizers = List(Unicode(), default_value=list(DEFAULT_OPTIMIZERS)).tag(config=True)
    batch_size = _int_range_trait((8, 512), "batch size (low, high), drawn log-uniformly")
    epochs = _int_range_trait((2, 19), "epochs (low, high)")
    # --- regularisation (every family) -------------------------------------------------
    regularizer_chance = _probability(0.3, "chance that a layer carries a regularizer")
    regularizers = Dict(
        default_value={"l1": 0.2, "l2": 0.3, "dropout": 0.5},
        help="regularizer kinds and their probabilities (summing to 1)",
    ).tag(config=True)
    l1_strength = _float_range_trait((1e-6, 1e-3), "L1 factor (low, high), log-uniform")
    l2_strength = _float_range_trait((1e-6, 1e-2), "L2 factor (low, high), log-uniform")
    dropout_rate = _float_range_trait((0.1, 0.5), "dropout rate (low, high)")
    # --- GA ------------------------------------------------------------------------------
    top_tier = _probability(0.2, "share of the best models kept as parents")
    random_tier = _probability(0.1, "share of the other models drawn at random as parents")
    mutate_prob = _probability(0.2, "chance that a child is mutated")
    max_mutations = Int(2, help="most mutations applied to one child").tag(config=True)
    # --- convolutional (GACNN1) genes ----------------------------------------------------
    conv_blocks = _int_range_trait((1, 4), "convolution blocks (low, high)")
    conv_filters = _int_range_trait((8, 128), "filters per block (low, high), log-uniform")
    kernel_size = _int_range_trait((2, 7), "kernel size (low, high)")
    strides = _int_range_trait((1, 2), "convolution stride (low, high)")
    paddings = List(Unicode(), default_value=list(PADDINGS)).tag(config=True)
    poolings = List(Unicode(), default_value=list(POOLINGS)).tag(config=True)
    batchnorm_chance = _probability(0.5, "chance that a block has batch normalisation")
    residual_chance = _probability(0.3, "chance that a block has a residual connection")
    conv_activations = List(Unicode(), default_value=["relu", "elu", "selu", "tanh", "swish"]).tag(
        config=True
    )
    conv_readouts = List(
        Unicode(),
        default_value=list(CONV_READOUTS),
        help="how the last feature map meets the dense head: " + ", ".join(CONV_READOUTS),
    ).tag(config=True)
    head_layers = _int_range_trait((0, 2), "dense head layers after a CNN / RNN body (low, high)")
    # --- recurrent (GARNN1) genes --------------------------------------------------------
    rnn_layers = _int_range_trait((1, 3), "stacked recurrent layers (low, high)")
    rnn_units = _int_range_trait((8, 256), "units per recurrent layer (low, high)")
    rnn_cells = List(Unicode(), default_value=list(RNN_CELLS)).tag(config=True)
    bidirectional_chance = _probability(0.3, "chance that a recurrent layer is bidirectional")
    conv_front_chance = _probability(0.3, "chance of a 1-D convolution front end")
    embedding_dim = _int_range_trait((16, 128), "token embedding width (low, high)")
    recurrent_dropout_chance = _probability(
        0.1, "chance that a recurrent layer has recurrent dropout (slow: no fused kernel)"
    )
    recurrent_dropout_rate = _float_range_trait((0.1, 0.3), "recurrent dropout (low, high)")

    # ------------------------------------------------------------------ validation
    @validate("kind")
    def _check_kind(self, proposal):
        return _one_of("kind", proposal.value, clade_kinds())

    @validate("selection_metric")
    def _check_metric(self, proposal):
        return _one_of("selection_metric", proposal.value, SELECTION_METRICS)

    @validate("objectives")
    def _check_objectives(self, proposal):
        return _objective_pairs(proposal.value)

    @validate("strategy")
    def _check_strategy(self, proposal):
        return _one_of("strategy", proposal.value, STRATEGIES)

    @validate("pruner")
    def _check_pruner(self, proposal):
        return _one_of("pruner", proposal.value, PRUNERS)

    @validate("sample_size", "halving_rate")
    def _check_at_least_two(self, proposal):
        return _int_at_least(proposal.trait.name, proposal.value, 2)

    @validate(
        "max_train_steps",
        "early_stopping_patience",
        "pruner_warmup_epochs",
        "pruner_startup_models",
        "min_validation_samples",
        "min_validation_per_class",
    )
    def _check_count(self, proposal):
        return _int_at_least(proposal.trait.name, proposal.value, 0)

    @validate("aging_crossover")
    def _check_aging_crossover(self, proposal):
        if not 0.0 <= proposal.value <= 1.0:
            raise ConfigError("aging_crossover", proposal.value, "a probability in [0, 1]")
        return proposal.value

    @validate("lr_ranges")
    def _check_lr_ranges(self, proposal):
        allowed = (
            "a mapping of optimizer names, 'sgd' or 'adaptive' to (low, high) with "
            "0 < low <= high <= 10"
        )
        ranges = {}
        for key, pair in dict(proposal.value).items():
            if key not in (*ALL_OPTIMIZERS, "adaptive") or not (
                isinstance(pair, list | tuple) and len(pair) == 2
            ):
                raise ConfigError("lr_ranges", proposal.value, allowed)
            low, high = float(pair[0]), float(pair[1])
            if not 0.0 < low <= high <= 10.0:
                raise ConfigError("lr_ranges", proposal.value, allowed)
            ranges[str(key)] = (low, high)
        if ranges and not {"sgd", "adaptive"} <= set(ranges):
            raise ConfigError("lr_ranges", proposal.value, "empty, or with 'sgd' and 'adaptive'")
        return ranges

    @validate("evolution")
    def _check_evolution(self, proposal):
        return _one_of("evolution", proposal.value, EVOLUTION_MODES)

    @validate("executor")
    def _check_executor(self, proposal):
        return _one_of("executor", proposal.value, EXECUTORS)

    @validate("final_activation")
    def _check_final(self, proposal):
        return _one_of("final_activation", proposal.value, FINAL_ACTIVATIONS)

    @validate("population_size")
    def _check_population(self, proposal):
        return _int_between("population_size", proposal.value, 2, MAX_POPULATION)

    @validate("generations")
    def _check_generations(self, proposal):
        return _int_between("generations", proposal.value, 1, MAX_GENERATIONS)

    @validate("max_mutations")
    def _check_max_mutations(self, proposal):
        return _int_between("max_mutations", proposal.value, 1, 100)

    @validate("seed")
    def _check_seed(self, proposal):
        return _int_between("seed", proposal.value, 0, MAX_SEED)

    @validate("workers", "retries")
    def _check_non_negative(self, proposal):
        return _int_between(proposal.trait.name, proposal.value, 0, 1024)

    @validate("max_words", "sequence_length")
    def _check_data_sizes(self, proposal):
        return _int_between(proposal.trait.name, proposal.value, 2, 1_000_000)

    @validate("max_train_time")
    def _check_time(self, proposal):
        value = proposal.value
        if not (math.isfinite(value) and 0 < value <= MAX_TRAIN_TIME):
            raise ConfigError(
                "max_train_time", value, f"a finite number of seconds > 0 and <= {MAX_TRAIN_TIME:g}"
            )
        return value

    @validate("validation_fraction")
    def _check_validation(self, proposal):
        value = proposal.value
        if not 0.0 < value < 0.9:
            raise ConfigError("validation_fraction", value, "0 < fraction < 0.9")
        return value

    @validate(*PROBABILITIES)
    def _check_probability(self, proposal):
        value = proposal.value
        if not 0.0 <= value <= 1.0:
            raise ConfigError(proposal.trait.name, value, "a probability in [0, 1]")
        return value

    @validate(*INT_RANGES)
    def _check_int_range(self, proposal):
        name = proposal.trait.name
        low, high = proposal.value
        floor, ceiling = INT_RANGES[name]
        if not floor <= low <= high <= ceiling:
            raise ConfigError(name, (low, high), f"{floor} <= low <= high <= {ceiling}")
        return (int(low), int(high))

    @validate(*FLOAT_RANGES)
    def _check_float_range(self, proposal):
        name = proposal.trait.name
        low, high = proposal.value
        floor, ceiling = FLOAT_RANGES[name]
        if not floor <= low <= high <= ceiling:
            raise ConfigError(name, (low, high), f"{floor} <= low <= high <= {ceiling}")
        return (float(low), float(high))

    @validate("lr_bins")
    def _check_lr_bins(self, proposal):
        bins = [tuple(float(v) for v in b) for b in proposal.value]
        if not bins:
            raise ConfigError("lr_bins", proposal.value, "at least one (low, high) bin")
        for low, high in bins:
            if not 0.0 < low <= high <= 10.0:
                raise ConfigError("lr_bins", proposal.value, "bins with 0 < low <= high <= 10")
        return bins

    @validate("activations", "conv_activations")
    def _check_activations(self, proposal):
        return _subset(proposal.trait.name, proposal.value, ALL_ACTIVATIONS)

    @validate("conv_readouts")
    def _check_readouts(self, proposal):
        return _subset("conv_readouts", proposal.value, CONV_READOUTS)

    @validate("optimizers")
    def _check_optimizers(self, proposal):
        return _subset("optimizers", proposal.value, ALL_OPTIMIZERS)

    @validate("rnn_cells")
    def _check_cells(self, proposal):
        return _subset("rnn_cells", proposal.value, RNN_CELLS)

    @validate("poolings")
    def _check_poolings(self, proposal):
        return _subset("poolings", proposal.value, POOLINGS)

    @validate("paddings")
    def _check_paddings(self, proposal):
        return _subset("paddings", proposal.value, PADDINGS)

    @validate("regularizers")
    def _check_regularizers(self, proposal):
        value = dict(proposal.value)
        allowed = f"a mapping of {list(ALL_REGULARIZERS)} to probabilities summing to 1"
        if not value or any(k not in ALL_REGULARIZERS for k in value):
            raise ConfigError("regularizers", value, allowed)
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in value.values()):
            raise ConfigError("regularizers", value, allowed)
        # in one fixed order (l1, l2, dropout): the draw follows it, and a config read back
        # from config.json (written with sorted keys) must draw the same regularizers
        probs = {k: float(value[k]) for k in ALL_REGULARIZERS if k in value}
        if any(p < 0 for p in probs.values()) or not math.isclose(
            sum(probs.values()), 1.0, abs_tol=1e-6
        ):
            raise ConfigError("regularizers", value, allowed)
        return probs

    # ------------------------------------------------------------------ conversions
    @classmethod
    def field_names(cls) -> list[str]:
        return sorted(cls.class_trait_names(config=True))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (tuples become lists)."""
        return {name: _jsonable(getattr(self, name)) for name in self.field_names()}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> CladeConfig:
        if not isinstance(values, Mapping):
            raise ConfigError("config", values, "a mapping (JSON object) of config fields")
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise unknown_field(unknown[0], values[unknown[0]], cls.field_names())
        cfg = cls()
        with cfg.hold_trait_notifications():
            for name, value in values.items():
                setattr(cfg, name, _from_json(cfg, name, value))
        return cfg

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike) -> CladeConfig:
        candidate = Path(text_or_path) if not str(text_or_path).lstrip().startswith("{") else None
        where = str(candidate) if candidate is not None else "config JSON text"
        try:
            text = candidate.read_text() if candidate is not None else str(text_or_path)
            values = json.loads(text)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(where, "", f"a readable JSON file ({exc})") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(
                where,
                f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                "a JSON object of config fields",
            ) from None
        if not isinstance(values, dict):
            raise ConfigError(where, values, "a JSON object of config fields")
        try:
            return cls.from_dict(values)
        except ConfigError as exc:
            raise ConfigError(exc.field, exc.value, f"{exc.allowed} (in {where})") from None

    @classmethod
    def from_preset(cls, name: str, **changes: Any) -> CladeConfig:
        """A named starting point (``PRESETS``) with some fields changed."""
        if name not in PRESETS:
            raise ConfigError("preset", name, "one of " + ", ".join(PRESETS))
        return cls().updated(**{**PRESETS[name], **changes})

    def copy(self) -> CladeConfig:
        return type(self).from_dict(self.to_dict())

    def updated(self, **changes: Any) -> CladeConfig:
        """A copy with some fields changed (the original's ``config_updates``)."""
        values = self.to_dict()
        values.update(changes)
        return type(self).from_dict(values)

    def update_from_strings(self, assignments: Iterable[str]) -> CladeConfig:
        """A copy with ``key=value`` strings applied (the CLI's ``--set``); values parse as JSON."""
        changes: dict[str, Any] = {}
        for item in assignments:
            key, sep, raw = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise ConfigError("--set", item, "key=value, e.g. population_size=8")
            if key not in self.field_names():
                raise unknown_field(key, raw, self.field_names())
            changes[key] = _parse_cli_value(self, key, raw.strip())
        return self.updated(**changes)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CladeConfig) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.to_dict().items() if v != _DEFAULTS.get(k)}
        inner = ", ".join(f"{k}={v!r}" for k, v in sorted(changed.items()))
        return f"CladeConfig({inner})"


def objectives_of(cfg: CladeConfig) -> list[tuple[str, str]]:
    """The (column, direction) pairs a clade ranks on: ``cfg.objectives``, or when empty the
    selection metric alone (maximised, or minimised for a loss), today's single metric."""
    if cfg.objectives:
        return [tuple(pair) for pair in cfg.objectives]
    metric = cfg.selection_metric
    return [(metric, "min" if metric.endswith("loss") else "max")]


def _objective_pairs(value: Any) -> list[tuple[str, str]]:
    allowed = (
        f"a list of distinct (column, direction) pairs; columns: {', '.join(OBJECTIVE_COLUMNS)};"
        f" directions: {', '.join(OBJECTIVE_DIRECTIONS)}"
    )
    pairs = []
    for pair in value:
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise ConfigError("objectives", _jsonable(value), allowed)
        column, direction = pair
        if column not in OBJECTIVE_COLUMNS or direction not in OBJECTIVE_DIRECTIONS:
            raise ConfigError("objectives", _jsonable(value), allowed)
        pairs.append((str(column), str(direction)))
    columns = [c for c, _ in pairs]
    if len(set(columns)) != len(columns):
        raise ConfigError("objectives", _jsonable(value), allowed + " (a column at most once)")
    return pairs


def lr_range_for(cfg: CladeConfig, optimizer: str) -> tuple[float, float]:
    """The learning-rate range of an optimizer's family (``lr_ranges`` must be non-empty)."""
    ranges = cfg.lr_ranges
    if optimizer in ranges:
        return ranges[optimizer]
    return ranges["sgd" if optimizer == "sgd" else "adaptive"]


def _one_of(field: str, value: object, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigError(field, value, "one of " + ", ".join(allowed))
    return str(value)


def _int_at_least(field: str, value: int, minimum: int) -> int:
    if value < minimum:
        raise ConfigError(field, value, f"an integer >= {minimum}")
    return value


def _int_between(field: str, value: int, minimum: int, maximum: int) -> int:
    if not minimum <= value <= maximum:
        raise ConfigError(field, value, f"an integer >= {minimum} and <= {maximum}")
    return value


def _subset(field: str, values: list[str], allowed: tuple[str, ...]) -> list[str]:
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise ConfigError(field, list(values), "a non-empty subset of " + ", ".join(allowed))
    return list(dict.fromkeys(values))


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _from_json(cfg: CladeConfig, name: str, value: Any) -> Any:
    """Turn JSON lists back into the tuples that range traits hold."""
    if name in INT_RANGES or name in FLOAT_RANGES:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ConfigError(name, value, "a (low, high) pair")
        return tuple(value)
    if name == "lr_ranges":
        if not isinstance(value, dict):
            raise ConfigError(name, value, "a mapping of optimizer family to (low, high)")
        return {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
    if name == "lr_bins":
        if not isinstance(value, list | tuple) or not all(
            isinstance(b, list | tuple) and len(b) == 2 for b in value
        ):
            raise ConfigError(name, value, "a list of (low, high) pairs")
        return [tuple(b) for b in value]
    if name == "objectives":
        return _objectives_from_json(value)
    return value


def _objectives_from_json(value: Any) -> list[tuple[Any, ...]]:
    """JSON pairs back into tuples; "column:direction" words (the CLI's short form) too."""
    allowed = 'a list of [column, "max"|"min"] pairs or "column:max" words'
    if not isinstance(value, list | tuple):
        raise ConfigError("objectives", value, allowed)
    pairs: list[tuple[Any, ...]] = []
    for item in value:
        if isinstance(item, str) and item.count(":") == 1:
            pairs.append(tuple(item.split(":")))
        elif isinstance(item, list | tuple):
            pairs.append(tuple(item))
        else:
            raise ConfigError("objectives", value, allowed)
    return pairs


def _parse_cli_value(cfg: CladeConfig, key: str, raw: str) -> Any:
    """Parse a CLI value by the field's type: JSON for numbers/lists, bare words for strings."""
    current = getattr(cfg, key)
    if isinstance(current, str):
        return raw
    if (
        isinstance(current, tuple | list)
        and not raw.startswith("[")
        and ("," in raw or isinstance(current, list))  # a list field takes one bare word too
    ):
        raw = "[" + ",".join(_quote_word(p.strip()) for p in raw.split(",")) + "]"
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        if isinstance(current, bool):
            lowered = raw.lower()
            if lowered in ("true", "yes", "on", "1"):
                return True
            if lowered in ("false", "no", "off", "0"):
                return False
        raise ConfigError(
            key, raw, "a JSON value matching the field, e.g. 8, 0.5, [2, 6]"
        ) from None
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ConfigError(key, raw, "true or false")
        return value
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(current, int) and isinstance(value, float):
        if not value.is_integer():
            raise ConfigError(key, raw, "an integer")
        return int(value)
    return value


def _quote_word(word: str) -> str:
    try:
        json.loads(word)
        return word
    except json.JSONDecodeError:
        return json.dumps(word)


def clade_kinds() -> list[str]:
    """The kinds a config may name: the family registry's, the one list of kinds."""
    from .families import family_names  # families import the config: look up lazily

    return family_names()


# ---------------------------------------------------------------------- field metadata
# Every config trait carries its panel section (``group``), the family whose genes read it
# (``family``: "" for a field of every family) and, for choice fields, the allowed values
# (``choices``: one of them; ``subset_of``: a list of them). Generic code reads them
# (bqplot's metadata-on-traits pattern): the config panel builds its sections and
# controls from them, so a new field or family needs no widget edit.
_SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Run": (
        "",
        (
            "kind",
            "population_size",
            "generations",
            "seed",
            "deterministic",
            "executor",
            "workers",
            "scheduler",
            "retries",
        ),
    ),
    "Data": (
        "",
        (
            "validation_fraction",
            "stratify",
            "min_validation_samples",
            "min_validation_per_class",
            "normalize",
            "max_words",
            "sequence_length",
        ),
    ),
    "Dense genes": (
        "",  # the dense stack is GAFC1's body and every family's head
        (
            "nb_layers",
            "nb_units",
            "activations",
            "final_activation",
            "optimizers",
            "lr_ranges",
            "lr_bins",
            "batch_size",
            "epochs",
        ),
    ),
    "Regularisation": (
        "",
        ("regularizer_chance", "regularizers", "l1_strength", "l2_strength", "dropout_rate"),
    ),
    "Selection & breeding": (
        "",
        (
            "strategy",
            "evolution",
            "selection_metric",
            "objectives",
            "top_tier",
            "random_tier",
            "sample_size",
            "aging_crossover",
            "mutate_prob",
            "max_mutations",
        ),
    ),
    "Convolutional genes": (
        "GACNN1",
        (
            "conv_blocks",
            "conv_filters",
            "kernel_size",
            "strides",
            "paddings",
            "poolings",
            "batchnorm_chance",
            "residual_chance",
            "conv_activations",
            "conv_readouts",
            "head_layers",
        ),
    ),
    "Recurrent genes": (
        "GARNN1",
        (
            "rnn_layers",
            "rnn_units",
            "rnn_cells",
            "bidirectional_chance",
            "conv_front_chance",
            "embedding_dim",
            "recurrent_dropout_chance",
            "recurrent_dropout_rate",
        ),
    ),
    "Training budget & pruning": (
        "",
        (
            "max_train_time",
            "max_train_steps",
            "early_stopping_patience",
            "pruner",
            "pruner_warmup_epochs",
            "pruner_startup_models",
            "halving_rate",
        ),
    ),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "selection_metric": SELECTION_METRICS,
    "executor": EXECUTORS,
    "evolution": EVOLUTION_MODES,
    "strategy": STRATEGIES,
    "pruner": PRUNERS,
    "final_activation": FINAL_ACTIVATIONS,
}
_SUBSETS: dict[str, tuple[str, ...]] = {
    "activations": ALL_ACTIVATIONS,
    "conv_activations": ALL_ACTIVATIONS,
    "optimizers": ALL_OPTIMIZERS,
    "rnn_cells": RNN_CELLS,
    "poolings": POOLINGS,
    "paddings": PADDINGS,
    "conv_readouts": CONV_READOUTS,
}


def _tag_fields() -> None:
    traits = CladeConfig.class_traits(config=True)
    for group, (family, names) in _SECTIONS.items():
        for name in names:
            traits[name].metadata.update(group=group, family=family)
    for name, allowed in _CHOICES.items():
        traits[name].metadata["choices"] = allowed
    for name, allowed in _SUBSETS.items():
        traits[name].metadata["subset_of"] = allowed


_tag_fields()


def fields_by_group() -> dict[str, list[str]]:
    """Config fields by panel section (from each trait's ``group`` metadata), sections in
    the core's order; a field without a group (added later, not tagged) goes to "Other"."""
    groups: dict[str, list[str]] = {title: [] for title in _SECTIONS}
    for name in CladeConfig.field_names():
        groups.setdefault(field_info(name)["group"], []).append(name)
    order = {name: i for _, names in _SECTIONS.values() for i, name in enumerate(names)}
    for names in groups.values():
        names.sort(key=lambda n: (order.get(n, len(order)), n))
    if "Other" in groups:
        groups["Other"] = groups.pop("Other")
    return {title: names for title, names in groups.items() if names}


def field_info(name: str) -> dict[str, Any]:
    """A field's metadata: group ("Other" if none), family, choices / subset_of, help."""
    traits = CladeConfig.class_traits(config=True)
    if name not in traits:
        raise ConfigError(name, None, "one of the config fields: " + ", ".join(sorted(traits)))
    meta = dict(traits[name].metadata)
    meta.setdefault("group", "Other")
    meta.setdefault("family", "")
    if name == "kind":
        meta["choices"] = tuple(clade_kinds())
    meta["help"] = traits[name].help
    return meta


_DEFAULTS = CladeConfig().to_dict()

# What each preset changes from CladeConfig()'s defaults ("default" changes nothing).
PRESETS: dict[str, dict[str, Any]] = {
    # the 2017 deeplearngene space and run behaviour, exactly as dlgene had it before presets
    "classic": {
        "lr_ranges": {},
        "lr_bins": [(1e-3, 1e-2), (1e-2, 1e-1), (1e-1, 0.5)],
        "activations": list(ALL_ACTIVATIONS[:9]),
        "optimizers": list(ALL_OPTIMIZERS),
        "normalize": False,
        "stratify": False,
        "min_validation_samples": 0,
        "min_validation_per_class": 0,
        "pruner": "none",
        "early_stopping_patience": 0,
        "strategy": "tiers",
    },
    "default": {},
}
