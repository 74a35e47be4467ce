"""One control per CladeConfig field: which widget edits it and how values convert.

Each ``FieldControl`` wraps the widget(s) for one field, turns the widget value into the value
the config trait takes (``read``), shows a config value (``show``), and calls back on edits.
The kind of control is chosen from the field's trait type and the core's allowed-value lists,
so a field added to the core later still gets a control (a JSON text box at worst).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Dict, Float, Int, List, Tuple, Unicode

from dlgene_core import config as cfgmod
from dlgene_core.config import CladeConfig

CHOICES: dict[str, tuple[str, ...]] = {
    "kind": cfgmod.CLADE_KINDS,
    "selection_metric": cfgmod.SELECTION_METRICS,
    "executor": cfgmod.EXECUTORS,
    "final_activation": ("softmax", "sigmoid", "linear"),
    "strategy": cfgmod.STRATEGIES,
    "pruner": cfgmod.PRUNERS,
}
MULTI_CHOICES: dict[str, tuple[str, ...]] = {
    "activations": cfgmod.ALL_ACTIVATIONS,
    "conv_activations": cfgmod.ALL_ACTIVATIONS,
    "optimizers": cfgmod.ALL_OPTIMIZERS,
    "rnn_cells": cfgmod.RNN_CELLS,
    "poolings": cfgmod.POOLINGS,
    "paddings": cfgmod.PADDINGS,
    "conv_readouts": getattr(cfgmod, "CONV_READOUTS", ("flatten",)),
}
_WIDE = widgets.Layout(width="320px")


class FieldControl:
    """The control for one config field."""

    def __init__(self, name: str, widget: widgets.Widget, sources: list[widgets.Widget]):
        self.name = name
        self.widget = widget  # what is shown (carries the dlgene-field-<name> class)
        self.sources = sources  # widgets whose ``value`` changes mean an edit
        widget.add_class(f"dlgene-field-{name}")

    def read(self) -> Any:
        raise NotImplementedError

    def show(self, value: Any) -> None:
        raise NotImplementedError

    def on_edit(self, callback: Callable[[str], None]) -> None:
        for source in self.sources:
            source.observe(lambda _change: callback(self.name), names="value")

    def set_disabled(self, disabled: bool) -> None:
        for source in self.sources:
            source.disabled = disabled


class ValueControl(FieldControl):
    """A single widget whose value is the field value (sliders, texts, dropdowns)."""

    def __init__(
        self, name: str, widget: widgets.Widget, convert: Callable[[Any], Any] | None = None
    ):
        super().__init__(name, widget, [widget])
        self._convert = convert or (lambda v: v)

    def read(self) -> Any:
        return self._convert(self.widget.value)

    def show(self, value: Any) -> None:
        self.widget.value = value


class MultiControl(ValueControl):
    """A SelectMultiple (known options) or TagsInput (free words) for a list of strings."""

    def read(self) -> list[str]:
        return list(self.widget.value)

    def show(self, value: Any) -> None:
        self.widget.value = (
            tuple(value) if isinstance(self.widget, widgets.SelectMultiple) else list(value)
        )


class FloatPairControl(FieldControl):
    """Two number boxes for a (low, high) float range (log ranges need exact small values)."""

    def __init__(self, name: str):
        self.low = widgets.FloatText(description="low", layout=widgets.Layout(width="160px"))
        self.high = widgets.FloatText(description="high", layout=widgets.Layout(width="160px"))
        super().__init__(name, widgets.HBox([self.low, self.high]), [self.low, self.high])

    def read(self) -> tuple[float, float]:
        return (float(self.low.value), float(self.high.value))

    def show(self, value: Any) -> None:
        self.low.value, self.high.value = float(value[0]), float(value[1])


class RegularizerControl(FieldControl):
    """Three probability sliders (l1, l2, dropout) for the ``regularizers`` mapping."""

    def __init__(self, name: str):
        self.sliders = {
            kind: widgets.FloatSlider(
                min=0.0, max=1.0, step=0.05, description=kind, readout_format=".2f"
            )
            for kind in cfgmod.ALL_REGULARIZERS
        }
        super().__init__(
            name, widgets.VBox(list(self.sliders.values())), list(self.sliders.values())
        )

    def read(self) -> dict[str, float]:
        return {kind: round(float(s.value), 6) for kind, s in self.sliders.items()}

    def show(self, value: Any) -> None:
        for kind, slider in self.sliders.items():
            slider.value = float(value.get(kind, 0.0))


class JsonControl(ValueControl):
    """A text box holding JSON (lr_bins and any field without a dedicated control)."""

    def __init__(self, name: str, placeholder: str = ""):
        super().__init__(name, widgets.Text(placeholder=placeholder, layout=_WIDE))

    def read(self) -> Any:
        try:
            value = json.loads(self.widget.value)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"config field {self.name!r}: got {self.widget.value!r}; allowed: JSON ({exc.msg})"
            ) from None
        if isinstance(value, list):
            value = [tuple(v) if isinstance(v, list) else v for v in value]
        return value

    def show(self, value: Any) -> None:
        self.widget.value = json.dumps(cfgmod._jsonable(value))


def make_control(name: str) -> FieldControl:
    """The control for ``name``, chosen by the trait type and the core's allowed values."""
    trait = CladeConfig.class_traits()[name]
    if name in CHOICES:
        return ValueControl(name, widgets.Dropdown(options=CHOICES[name]))
    if name in MULTI_CHOICES:
        return MultiControl(
            name, widgets.SelectMultiple(options=MULTI_CHOICES[name], rows=6, layout=_WIDE)
        )
    if name == "regularizers":
        return RegularizerControl(name)
    if name in cfgmod.INT_RANGES:
        low, high = cfgmod.INT_RANGES[name]
        slider = widgets.IntRangeSlider(min=low, max=high, step=1, layout=_WIDE)
        return ValueControl(name, slider, lambda v: (int(v[0]), int(v[1])))
    if name in cfgmod.FLOAT_RANGES:
        return FloatPairControl(name)
    if name in cfgmod.PROBABILITIES:
        slider = widgets.FloatSlider(min=0.0, max=1.0, step=0.01, readout_format=".2f")
        return ValueControl(name, slider, float)
    if isinstance(trait, Bool):
        return ValueControl(name, widgets.Checkbox(indent=False))
    if isinstance(trait, Int):
        return ValueControl(name, widgets.IntText(layout=widgets.Layout(width="160px")), int)
    if isinstance(trait, Float):
        return ValueControl(name, widgets.FloatText(layout=widgets.Layout(width="160px")), _finite)
    if isinstance(trait, Unicode):
        return ValueControl(name, widgets.Text(layout=_WIDE))
    if isinstance(trait, List) and isinstance(trait._trait, Unicode):
        return MultiControl(name, widgets.TagsInput(allow_duplicates=False))
    if isinstance(trait, List | Tuple | Dict):
        return JsonControl(name, placeholder="JSON, e.g. [[0.001, 0.01]]")
    raise TypeError(f"config field {name!r}: no control for trait type {type(trait).__name__}")


def _finite(value: Any) -> float:
    value = float(value)
    if math.isnan(value):
        raise ValueError("a number (got NaN)")
    return value
