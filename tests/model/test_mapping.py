"""How a mapping is resolved from a preset, a mapping file and the command-line flags."""

from __future__ import annotations


def test_values_named_on_the_command_line_replace_both_sides_of_a_preset() -> None:
    """IBM's preset with --won-value Loss kept the preset's lost value "Loss" too, and the error
    said a value was "neither a won value (Loss) nor a lost value (Loss)"."""
    from winloss.model.mapping import resolve_mapping

    m = resolve_mapping(preset="ibm-win-loss", won_values=("Loss",))
    assert m.won_values == ("Loss",) and m.lost_values == ()
    m = resolve_mapping(preset="ibm-win-loss", lost_values=("Won",))
    assert m.lost_values == ("Won",) and m.won_values == ()
    m = resolve_mapping(preset="ibm-win-loss", won_values=("W",), lost_values=("L",))
    assert (m.won_values, m.lost_values) == (("W",), ("L",))
    assert resolve_mapping(preset="ibm-win-loss").won_values == ("Won",)
