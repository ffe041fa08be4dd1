"""The seeds' own Python scripts (Tests/e2e/seeds), run as published with only their variables set."""
import re
import subprocess
import sys
from pathlib import Path

SEEDS = Path(__file__).resolve().parent / "seeds"


def fill_variables(script: str, values: dict) -> str:
    """Replaces the right-hand side of `NAME = ...` lines, and nothing else."""
    for name, value in values.items():
        pattern = re.compile(rf"^{re.escape(name)} = .*$", re.MULTILINE)
        assert pattern.search(script), f"the seed script has no variable {name}"
        script = pattern.sub(lambda _: f"{name} = {value!r}", script, count=1)
    return script


def run_script(path: Path, cwd: Path) -> str:
    result = subprocess.run([sys.executable, str(path)], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout
