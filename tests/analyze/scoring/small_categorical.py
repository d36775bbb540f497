"""A small all-categorical deal file like the B2B sets sales teams keep (a few hundred deals).

Twenty categorical attributes of 2–6 levels: four carry additive effects, two more act only
together (an interaction a linear model misses), the rest are noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit


def small_categorical_deals(n: int = 420, *, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    for j in range(20):
        k = 2 + j % 5
        cols[f"attr_{j:02d}"] = rng.choice([f"v{i}" for i in range(k)], n)
    logit = (
        -1.5
        + 1.6 * (cols["attr_00"] == "v0")
        + 1.4 * (cols["attr_01"] == "v1")
        - 1.2 * (cols["attr_02"] == "v2")
        + 1.0 * (cols["attr_03"] == "v0")
        + 2.5 * ((cols["attr_04"] == "v0") & (cols["attr_05"] == "v0"))
        - 1.5 * ((cols["attr_04"] == "v1") & (cols["attr_05"] != "v0"))
    )
    won = rng.random(n) < expit(logit)
    frame = pd.DataFrame(cols)
    frame.insert(0, "Status", np.where(won, "Closed Won", "Closed Lost"))
    frame.insert(0, "Opportunity", [f"OPP-{i:04d}" for i in range(n)])
    return frame
