"""The command line's shape: help without heavy imports, one-line errors."""

import subprocess
import sys

from agent.cli import main


def test_help_lists_subcommands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "sim" in out and "demo" in out


def test_unknown_subcommand_is_one_line_error():
    proc = subprocess.run(
        [sys.executable, "-m", "agent.cli", "no-such-command"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "invalid choice" in proc.stderr


def test_help_imports_no_hardware_or_numeric_library():
    code = (
        "import sys; from agent.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in ('numpy', 'pymodbus', 'RPi', 'spidev', 'smbus2', 'serial') "
        "if m in sys.modules]\n"
        "print(bad)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip().endswith("[]"), proc.stdout
