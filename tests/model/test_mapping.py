"""How a mapping is resolved from a preset, a mapping file and the command-line flags."""

from __future__ import annotations

from pathlib import Path


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


def test_a_mapping_files_own_values_stay_beside_a_flag(tmp_path: Path) -> None:
    """A reviewer's case: the file lists lost values; --won-value must not erase them."""
    from winloss.model.mapping import resolve_mapping

    path = tmp_path / "m.yaml"
    path.write_text("won_values: [Signed]\nlost_values: [Dropped, Churned]\n")
    m = resolve_mapping(mapping_file=path, won_values=("Signed", "Signed - Renewal"))
    assert m.won_values == ("Signed", "Signed - Renewal")
    assert m.lost_values == ("Dropped", "Churned")
