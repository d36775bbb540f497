"""Plain names of the win models and their baselines, for people (the report, the plan)."""

from __future__ import annotations

MODEL_NAMES: dict[str, str] = {
    "base_rate": "overall win rate (no model)",
    "naive_bayes": "simple probabilistic model (naive Bayes)",
    "logistic": "logistic regression",
    "gradient_boosting": "gradient boosting",
    "gradient_boosting_plain": "gradient boosting, uncalibrated",
}


def plain_model_name(name: str) -> str:
    """``gradient_boosting_plain`` → ``gradient boosting, uncalibrated``."""
    return MODEL_NAMES.get(name, name.replace("_", " "))
