"""Drive the CLI in-process, as the tests of every command do."""

from __future__ import annotations

from click.testing import CliRunner

from winloss.cli.main import cli


def run(*args: str) -> tuple[int, str, str]:
    """Invoke ``winloss ARGS``: (exit code, stdout, stderr); unexpected exceptions propagate."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr
