"""The command line's one error boundary, and the subcommands that only print what the library computed."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from rl_coordconv import cli
from rl_coordconv.cli import main
from rl_coordconv.errors import UserError
from rl_coordconv.extractors import parameter_counts


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [["no-such-command"], ["games", "--no-such-flag"], ["evaluate"], ["toy", "regression", "--canvas", "x"]],
)
def test_every_bad_command_line_is_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2 and one_line(capsys.readouterr().err)


def test_a_damaged_run_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.yaml").write_text("seed: [\n")
    assert main(["evaluate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and "malformed YAML" in err and err.startswith("rl-coordconv evaluate: error: ")


def _subcommand(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """Make `rl-coordconv games` raise ``error`` (a stand-in for any subcommand's library call)."""
    import rl_coordconv.cli.games as games

    def run(args: object) -> int:
        raise error

    monkeypatch.setattr(games, "run", run)


def test_user_errors_and_refusals_of_the_machine_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _subcommand(monkeypatch, UserError("no such thing;\n  try another"))
    assert main(["games"]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and "no such thing; try another" in err

    _subcommand(monkeypatch, OSError(errno.ENOSPC, "No space left on device", "/runs/x/model.zip"))
    assert main(["games"]) == 1
    err = capsys.readouterr().err
    assert one_line(err) and "/runs/x/model.zip: No space left on device" in err


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    _subcommand(monkeypatch, ZeroDivisionError("a bug"))
    with pytest.raises(ZeroDivisionError):
        main(["games"])
    _subcommand(monkeypatch, FileNotFoundError(errno.ENOENT, "No such file", "/a/file/we/should/have/written"))
    with pytest.raises(FileNotFoundError):
        main(["games"])


def test_ctrl_c_says_how_to_continue(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _subcommand(monkeypatch, KeyboardInterrupt())
    assert main(["games"]) == 130
    assert "run the same command again" in capsys.readouterr().err


def test_every_subcommand_parser_reports_in_one_line() -> None:
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert subparsers.choices and all(isinstance(p, cli.OneLineParser) for p in subparsers.choices.values())


def test_extractors_prints_the_library_counts(capsys: pytest.CaptureFixture[str]) -> None:
    counts = parameter_counts()
    # CoordConv adds 2 input channels (x, y) to the first 8x8 convolution's 32 filters; coordconv_r adds 3.
    assert counts["coordconv"] - counts["nature"] == 2 * 32 * 8 * 8
    assert counts["coordconv_r"] - counts["nature"] == 3 * 32 * 8 * 8
    assert main(["extractors"]) == 0
    out = capsys.readouterr().out
    assert f"{counts['coordconv']:,}" in out and "+4096" in out
