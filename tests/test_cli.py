"""The command line's one error boundary, and the subcommands that only print what the library computed."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
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


# -- a process of its own: pipes, imports, environment ---------------------------------------------

RL_COORDCONV = [sys.executable, "-m", "rl_coordconv"]


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path) -> None:
    """`rl-coordconv games | head -1`: the first line, then exit status 0 and nothing on stderr."""
    shell = subprocess.run(
        ["bash", "-c", 'set -o pipefail; "$@" games | head -1', "bash", *RL_COORDCONV],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert shell.returncode == 0 and shell.stderr == "", shell.stderr
    assert shell.stdout.split() == ["game", "random", "human"]
    # the same with the pipe already closed before the first write: the write itself fails
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        closed = subprocess.run(RL_COORDCONV + ["games"], stdout=write_end, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(write_end)
    assert closed.returncode == 0 and closed.stderr == b"", closed.stderr.decode()


PROBE = """
import json, os, sys
before = dict(os.environ)
import rl_coordconv
imported = dict(os.environ)
from rl_coordconv.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps({"torch": "torch" in sys.modules, "import_changed_env": imported != before,
                  "wait_policy": os.environ.get("OMP_WAIT_POLICY")}), file=sys.stderr)
"""


def _probe(args: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120, env=env)
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["--help"], ["games", "--names"]], ids=["--help", "games"])
def test_help_and_games_import_no_torch_and_importing_changes_no_environment(args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    seen = _probe(args, env)
    assert seen == {"torch": False, "import_changed_env": False, "wait_policy": "PASSIVE"}  # main sets it
    assert _probe(args, {**env, "OMP_WAIT_POLICY": "ACTIVE"})["wait_policy"] == "ACTIVE"  # the user's is kept
