"""Report card as HTML: Jinja2 template, inline SVG charts, no external assets."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape


def _env() -> Environment:
    env = Environment(loader=PackageLoader("bayanihan.sandbox", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["pct"] = lambda x: "–" if x is None else f"{100 * x:.1f}%"
    return env


def bars(values: dict[str, float | None], threshold: float | None = None) -> dict[str, Any]:
    """Geometry for a horizontal bar chart of values in [0, 1]."""
    rows = []
    for i, (name, value) in enumerate(values.items()):
        v = 0.0 if value is None else max(0.0, min(1.0, float(value)))
        rows.append({"name": name, "value": value, "y": 8 + i * 26, "w": round(300 * v, 1),
                     "bad": threshold is not None and value is not None and value < threshold})
    return {"rows": rows, "height": 16 + 26 * len(rows),
            "threshold_x": None if threshold is None else round(160 + 300 * threshold, 1)}


def render_html(card: dict[str, Any]) -> str:
    thresholds = {c["id"]: c["threshold"] for c in card.get("criteria", [])}
    per_lang = {k: g.get("recall", {}).get("value") for k, g in
                card["metrics"]["by_language"].items()}
    clean = card["metrics"]["overall"].get("recall", {}).get("value")
    robust = {"clean": clean, **{k: v["recall"] for k, v in card["robustness"].items()}}
    drop = thresholds.get("mutator_drop_max")
    floor = None if drop is None or clean is None else max(0.0, clean - drop)
    charts = {
        "languages": bars(per_lang, thresholds.get("recall_min_per_language")),
        "robustness": bars(robust, floor),
    }
    return _env().get_template("card.html").render(card=card, charts=charts)
