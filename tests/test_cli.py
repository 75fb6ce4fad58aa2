import subprocess
import sys

from ashyq.cli import build_parser, main


def test_every_command_has_help(capsys):
    parser = build_parser()
    actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    assert actions, "no sub-commands registered"
    for name in actions[0].choices:
        try:
            main([name, "--help"])
        except SystemExit as exc:
            assert exc.code == 0
        out = capsys.readouterr().out
        assert "usage: ashyq" in out


def test_module_entry_point_runs():
    out = subprocess.run(
        [sys.executable, "-m", "ashyq", "--help"], capture_output=True, text=True, check=True
    )
    assert "ashyq" in out.stdout
