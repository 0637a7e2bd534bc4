"""Evaluation: image metrics, Frechet distances, baselines, ``evaluate`` and its report."""

from lcgan._lazy import lazy_exports

__all__ = ["evaluate", "EvaluationResult", "write_report"]

__getattr__ = lazy_exports(__name__, {
    "evaluate": "lcgan.evaluation.evaluator",
    "EvaluationResult": "lcgan.evaluation.evaluator",
    "write_report": "lcgan.evaluation.report",
})
