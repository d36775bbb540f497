"""The data-integrity audit (:mod:`winloss.analyze.audit.analysis`).

This module stays import-light: the CLI reads :data:`DETAIL_TABLES` for its ``--detail`` choices
without loading pandas.
"""

#: The detail tables of a result, in the order they are documented and exported.
DETAIL_TABLES = (
    "completeness",
    "completeness_by_owner",
    "completeness_by_quarter",
    "capture_freshness",
    "freshness_distribution",
    "date_problems",
    "back_dated",
    "stage_order",
    "stage_transitions",
    "stage_skips_by_stage",
    "close_date_pushes",
    "close_date_pushes_by_owner",
    "duplicates",
    "vocabulary",
    "suspicious_values",
)
