"""How panels word their states: a calm grey hint for "nothing yet", red only for errors.

A state every run passes through (nothing grown yet, a new generation not trained yet) is
not a failure and must not look like one; an error is red and says what to do next.
"""

from __future__ import annotations

import html

HINT_COLOUR = "#666"
ERROR_COLOUR = "#b00020"


def hint(text: str) -> str:
    """``text`` as a grey, italic HTML hint (escaped)."""
    return f"<i style='color:{HINT_COLOUR}'>{html.escape(text)}</i>"


def error(text: str) -> str:
    """``text`` as a red HTML error (escaped); the text should say what to do."""
    return f"<span style='color:{ERROR_COLOUR}'>{html.escape(text)}</span>"
