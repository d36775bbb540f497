"""The analyses: one subpackage per analysis, on the shared base in :mod:`winloss.analyze.base`.

``concentrations`` (where wins and losses concentrate), ``scoring`` (the win model, lead scores,
evaluation), ``forecast``, ``targeting``, ``audit`` (data integrity), with shared statistics in
``stats``.
"""
