"""IPython extension: ``%load_ext dlgene_widgets``.

Registers ``%dlgene_dashboard`` and ``%dlgene_config`` and makes a Clade display as its
dashboard. Panels are always rebuilt from the clade (and so from its run folder), never
from saved widget state, so re-opening a notebook and re-running it restores them.
"""

from __future__ import annotations

import shlex
import weakref
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.display import display

from dlgene_core import Clade, CladeConfig

from .config_editor import ConfigEditor
from .dashboard import CladeDashboard

_DASHBOARDS: weakref.WeakKeyDictionary[Clade, CladeDashboard] = weakref.WeakKeyDictionary()
DASHBOARD_USAGE = "usage: %dlgene_dashboard FOLDER_OR_CLADE_VARIABLE [--as NAME]"
CONFIG_USAGE = "usage: %dlgene_config [CONFIG_OR_CLADE_VARIABLE] (default: config)"


def dashboard_for(clade: Clade) -> CladeDashboard:
    """The clade's dashboard, made once per clade (displaying it twice shows one widget)."""
    dashboard = _DASHBOARDS.get(clade)
    if dashboard is None or dashboard.comm is None:  # closed dashboards are rebuilt
        dashboard = CladeDashboard(clade)
        _DASHBOARDS[clade] = dashboard
    return dashboard


def _display_clade(clade: Clade) -> None:
    display(dashboard_for(clade))


@magics_class
class DlgeneMagics(Magics):
    """``%dlgene_dashboard`` and ``%dlgene_config``."""

    @line_magic
    def dlgene_dashboard(self, line: str) -> None:
        """Show the dashboard of a clade variable or of a run folder (re-opened with
        ``Clade.open``); ``--as NAME`` binds the clade to NAME."""
        words = shlex.split(line)
        bind = None
        if "--as" in words:
            at = words.index("--as")
            if at + 1 >= len(words):
                raise UsageError(f"--as needs a variable name; {DASHBOARD_USAGE}")
            bind = words[at + 1]
            del words[at : at + 2]
        if len(words) != 1:
            raise UsageError(f"got {line!r}; {DASHBOARD_USAGE}")
        target = words[0]
        namespace = self.shell.user_ns
        if target in namespace and isinstance(namespace[target], Clade):
            clade = namespace[target]
        elif Path(target).is_dir():
            clade = _open_for_dashboard(target)
        elif target in namespace:
            raise UsageError(
                f"{target!r} is a {type(namespace[target]).__name__}; allowed: a Clade "
                f"variable or a run folder. {DASHBOARD_USAGE}"
            )
        else:
            raise UsageError(
                f"{target!r} is neither a variable nor a folder; allowed: a Clade variable "
                f"or a run folder. {DASHBOARD_USAGE}"
            )
        if bind is not None:
            if not bind.isidentifier():
                raise UsageError(f"--as {bind!r}: allowed a Python identifier")
            namespace[bind] = clade
        display(dashboard_for(clade))

    @line_magic
    def dlgene_config(self, line: str) -> None:
        """Show a ConfigEditor for a CladeConfig (or a clade's config) variable; a missing
        variable is created as a new default CladeConfig."""
        words = shlex.split(line)
        if len(words) > 1:
            raise UsageError(f"got {line!r}; {CONFIG_USAGE}")
        name = words[0] if words else "config"
        if not name.isidentifier():
            raise UsageError(f"{name!r} is not a variable name; {CONFIG_USAGE}")
        namespace = self.shell.user_ns
        value: Any = namespace.get(name)
        if value is None:
            value = namespace[name] = CladeConfig()
        if isinstance(value, Clade):
            editor = ConfigEditor(value.config, read_only=("kind",))
        elif isinstance(value, CladeConfig):
            editor = ConfigEditor(value)
        else:
            raise UsageError(
                f"{name!r} is a {type(value).__name__}; allowed: a CladeConfig or a Clade. "
                f"{CONFIG_USAGE}"
            )
        display(editor)


def load_ipython_extension(ipython) -> None:
    """Register the magics and show every Clade as its dashboard."""
    ipython.register_magics(DlgeneMagics)
    ipython.display_formatter.ipython_display_formatter.for_type(Clade, _display_clade)


def unload_ipython_extension(ipython) -> None:
    """Undo ``load_ipython_extension``."""
    ipython.display_formatter.ipython_display_formatter.pop(Clade, None)
    for kind in ("line", "cell"):
        magics = ipython.magics_manager.magics[kind]
        for name in ("dlgene_dashboard", "dlgene_config"):
            magics.pop(name, None)


def _open_for_dashboard(folder: str) -> Clade:
    """A folder's clade for a dashboard: as its writer when free; read-only (buttons then
    report that they cannot write) while another process, e.g. a running `dlgene evolve`,
    holds it, so a dashboard can watch or review any run."""
    from dlgene_core.folderlock import FolderInUseError

    try:
        return Clade.open(folder)
    except FolderInUseError as exc:
        print(f"dlgene: {exc}; the dashboard opens it read-only")
        return Clade.open(folder, read_only=True)
