#!/usr/bin/env python3
"""Run tradebot from a fresh checkout with nothing but Python 3.11+: creates `.venv`, installs the project
and its test tools there (again only when pyproject.toml changes), then runs the command.

    python3 dev.py demo [--duration 60]     the product offline, with a local chat
    python3 dev.py test [pytest options]    the whole test suite
    python3 dev.py <tradebot command>       run, check, migrate, ...
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("TRADEBOT_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script is what tells an old Python to upgrade
        print(f"tradebot needs Python 3.11 or newer; this is {sys.version.split()[0]}.", file=sys.stderr)
        return 2
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    ensure_environment()
    command, rest = argv[0], argv[1:]
    if command == "test":
        program = [str(BIN / "python"), "-m", "pytest", *rest]
    else:
        program = [str(BIN / "tradebot"), command, *rest]
    os.chdir(ROOT)
    os.execv(program[0], program)  # replaces this process: stdin, signals and exit code pass straight through
    return 0  # not reached


def ensure_environment() -> None:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / ".tradebot-installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print(f"Creating {VENV} …", file=sys.stderr)
        venv.create(VENV, with_pip=True)
    print("Installing tradebot and its test tools (first run only) …", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "--editable", f"{ROOT}[test]"], check=True)
    stamp.write_text(digest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
