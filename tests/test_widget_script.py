"""`/widget.js` as the server writes it: the allowed origins and the fixed texts filled in."""

from __future__ import annotations

import json
import re

from webapp.widget import widget_js, widget_texts


def _literal(script: str, name: str):
    return json.loads(re.search(rf"var {name} = (.*?);\s+//", script).group(1))


def test_the_script_knows_the_allowed_origins_and_the_texts():
    script = widget_js(("https://clinic.example", "http://127.0.0.2:8000"))
    assert _literal(script, "ALLOWED") == ["https://clinic.example", "http://127.0.0.2:8000"]
    assert _literal(script, "TEXTS") == widget_texts()
    assert "__ALLOWED__" not in script and "__TEXTS__" not in script
    assert _literal(widget_js(()), "ALLOWED") == []


def test_every_language_has_every_text():
    texts = widget_texts()
    assert {"en", "es", "fr"} <= set(texts)
    for lang, table in texts.items():
        assert set(table) == set(texts["en"]), lang
        assert all(value.strip() for value in table.values()), lang
        assert "{origin}" in table["blocked"], lang


def test_nothing_in_the_data_can_end_the_script_tag(monkeypatch):
    monkeypatch.setattr(
        "webapp.widget.widget_texts", lambda: {"en": {"title": "</script><script>alert(1)"}}
    )
    assert "</script>" not in widget_js(())
