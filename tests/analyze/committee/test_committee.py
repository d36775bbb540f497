"""The committee analysis: what it says about its own inputs."""

from __future__ import annotations


def test_the_capture_and_the_stakeholder_list_disagreeing_is_said() -> None:
    """A stranger read 26 % vs 40 % (capture) in the findings and 45 % vs 26 % (stakeholders)
    here for 'decision maker engaged': the committee analysis now says where the two differ."""
    import pandas as pd

    from winloss.analyze.committee.analysis import dm_disagreement

    closed = pd.DataFrame(
        {
            "captured_dm_engaged": [True, True, False, False, None, True],
            "has_decision_maker": [True, False, True, False, True, False],
            "listed_stakeholders": [2, 3, 1, 2, 4, 0],  # the last has no list: not compared
        }
    )
    note = dm_disagreement(closed)
    assert note is not None
    assert "disagree on 2 of 4 closed deals that have both (1 captured as engaged" in note
    assert "1 the reverse" in note
    assert (
        dm_disagreement(closed.iloc[[0, 3, 4, 5]]) is None
    )  # rows that agree, or are not compared
