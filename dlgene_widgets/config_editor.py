"""ConfigEditor: one labelled control per CladeConfig field, validated before it is applied.

Edits are checked on a scratch copy of the config, so an invalid value shows its
ConfigError beside the field and never reaches the clade. Apply writes the valid edits into
the very CladeConfig object the clade holds; edits made in code reach the controls because
the editor observes the config's traits.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets
from traitlets import Dict, List, TraitError, Unicode

from dlgene_core.config import CladeConfig, field_info, fields_by_group

from ._fields import FieldControl, make_control
from ._panel import Panel


def grouped_fields() -> dict[str, list[str]]:
    """Config fields by panel section: the core's trait metadata decides (config.py)."""
    return fields_by_group()


class ConfigEditor(Panel):
    """Edit a CladeConfig in place: validate on a scratch copy, apply into ``config``."""

    errors = Dict(help="field -> message of edits that failed validation")
    pending = Dict(help="field -> valid edited value not applied yet")
    read_only = List(Unicode(), help="fields shown but not editable (e.g. a clade's kind)")

    def __init__(self, config: CladeConfig | None = None, read_only: Iterable[str] = ()):
        super().__init__()
        self.config = config if config is not None else CladeConfig()
        if not isinstance(self.config, CladeConfig):
            raise TypeError(f"config: got {type(config).__name__}; allowed: a CladeConfig")
        unknown = sorted(set(read_only) - set(CladeConfig.field_names()))
        if unknown:
            raise ValueError(f"read_only: unknown fields {unknown}; allowed: CladeConfig fields")
        self.read_only = list(read_only)
        self._scratch = self.config.copy()
        self.controls: dict[str, FieldControl] = {}
        self.field_errors: dict[str, widgets.HTML] = {}  # field -> its note (help, error)
        self._help: dict[str, str] = {}
        self.error_text = widgets.HTML("").add_class("dlgene-config-error")
        self.apply_button = widgets.Button(description="Apply", button_style="primary")
        self.apply_button.add_class("dlgene-btn-apply")
        self.reset_button = widgets.Button(description="Reset to defaults")
        self.reset_button.add_class("dlgene-btn-reset")
        self.status_text = widgets.HTML("")
        self.apply_button.on_click(lambda _b: self.apply())
        self.reset_button.on_click(lambda _b: self.reset())
        sections = []
        titles = []
        for title, names in grouped_fields().items():
            sections.append(widgets.VBox([w for name in names for w in self._field_row(name)]))
            titles.append(title)
        self.sections = widgets.Accordion(children=sections, titles=tuple(titles), selected_index=0)
        self.children = [
            self.sections,
            self.error_text,
            widgets.HBox([self.apply_button, self.reset_button, self.status_text]),
        ]
        self.add_class("dlgene-config-editor")
        self.config.observe(self._on_config_change)
        self.on_close(lambda: self.config.unobserve(self._on_config_change))

    # ------------------------------------------------------------------ building
    def _field_row(self, name: str) -> tuple[widgets.Widget, widgets.HTML]:
        """The field's row (name, control) and the note under it: its help, with the
        validation error above it when there is one. One note for both and no box around
        the pair: a dashboard builds this for every config field (about 70)."""
        control = make_control(name)
        self.controls[name] = control
        control.show(getattr(self.config, name))
        control.set_disabled(name in self.read_only)
        control.on_edit(self._on_edit)
        trait = CladeConfig.class_traits()[name]
        help_text = trait.help or _allowed_help(name)
        label = widgets.HTML(f"<b>{html.escape(name)}</b>", layout=widgets.Layout(width="190px"))
        label.tooltip = help_text
        self._help[name] = (
            f"<span style='color:#666;font-size:smaller'>{html.escape(help_text)}</span>"
        )
        note = widgets.HTML(self._help[name], layout=widgets.Layout(margin="0 0 6px 0"))
        self.field_errors[name] = note.add_class("dlgene-field-note")
        return widgets.HBox([label, control.widget]), note

    # ------------------------------------------------------------------ edits
    def _on_edit(self, name: str) -> None:
        if not self.picked_by_hand:  # the editor itself is writing values into controls
            return
        self.validate_field(name)

    def validate_field(self, name: str) -> str:
        """Check the control's value on the scratch copy; return the error ('' if valid)."""
        errors, pending = dict(self.errors), dict(self.pending)
        try:
            value = self.controls[name].read()
            setattr(self._scratch, name, value)
        except (TraitError, ValueError, TypeError) as exc:
            errors[name] = str(exc)
            pending.pop(name, None)
        else:
            errors.pop(name, None)
            applied = getattr(self._scratch, name)
            if applied == getattr(self.config, name):
                pending.pop(name, None)
            else:
                pending[name] = applied
        self.errors, self.pending = errors, pending
        self._show_errors()
        return errors.get(name, "")

    def apply(self) -> dict[str, Any]:
        """Write the valid edits into the config; invalid fields stay flagged. Returns them."""
        changes = dict(self.pending)
        if changes:
            with self.config.hold_trait_notifications():
                for name, value in changes.items():
                    setattr(self.config, name, value)
        self.pending = {}
        self.status_text.value = (
            f"applied {len(changes)} change(s): {', '.join(sorted(changes))}"
            if changes
            else "nothing to apply"
        )
        if self.errors:
            self.status_text.value += f"; not applied (invalid): {', '.join(sorted(self.errors))}"
        return changes

    def reset(self) -> None:
        """Set every editable field of the config back to its default."""
        defaults = CladeConfig()
        with self.config.hold_trait_notifications():
            for name in CladeConfig.field_names():
                if name not in self.read_only:
                    setattr(self.config, name, getattr(defaults, name))
        self._scratch = self.config.copy()
        self.errors, self.pending = {}, {}
        self._show_all()
        self._show_errors()
        self.status_text.value = "reset to defaults"

    # ------------------------------------------------------------------ config -> controls
    def _on_config_change(self, change) -> None:
        name = change["name"]
        if name not in self.controls:
            return
        setattr(self._scratch, name, change["new"])
        self._show(name, change["new"])
        errors, pending = dict(self.errors), dict(self.pending)
        errors.pop(name, None)
        pending.pop(name, None)
        self.errors, self.pending = errors, pending
        self._show_errors()

    def _show(self, name: str, value: Any) -> None:
        with self.setting_itself():
            self.controls[name].show(value)

    def _show_all(self) -> None:
        for name in self.controls:
            self._show(name, getattr(self.config, name))

    def _show_errors(self) -> None:
        for name, note in self.field_errors.items():
            message = self.errors.get(name, "")
            error = f"<span style='color:#b00020'>{html.escape(message)}</span><br>"
            note.value = (error if message else "") + self._help[name]
        self.error_text.value = "<br>".join(
            f"<span style='color:#b00020'>{html.escape(m)}</span>" for m in self.errors.values()
        )


def _allowed_help(name: str) -> str:
    """Help for fields the core documents only by their allowed values."""
    info = field_info(name)
    if "subset_of" in info:
        return "one or more of: " + ", ".join(info["subset_of"])
    if "choices" in info:
        return "one of: " + ", ".join(info["choices"])
    return ""
