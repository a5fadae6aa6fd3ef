"""The README's two commands are the ones CI and a new user run."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def code_blocks(text):
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def test_readme_has_exactly_two_commands_and_ci_runs_the_second():
    blocks = [b.strip() for b in code_blocks(README.split("## Quick starts")[0])]
    assert len(blocks) == 2
    install_run, install_test = blocks
    assert install_run == "pip install . && python -m sim.phase --rho 0.3"
    assert install_test == 'pip install ".[test]" && python -m pytest'
    # .ci/run executes the block that follows the marker
    after = README.split("<!-- test-command -->", 1)[1]
    assert code_blocks(after)[0].strip() == install_test
    proc = subprocess.run(
        ["bash", "-c", "awk '/<!-- test-command -->/{found=1; next} found && /^```/"
         "{if (inblock) exit; inblock=1; next} found && inblock {print; exit}' README.md"],
        cwd=ROOT, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == install_test


def test_main_command_runs():
    cmd = code_blocks(README)[0].strip().split("&&", 1)[1].split()
    assert cmd[:3] == ["python", "-m", "sim.phase"]
    proc = subprocess.run([sys.executable, *cmd[1:], "--trials", "20000"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "alpha_rho = 1.2150" in proc.stdout
    assert "regime    = amplifying" in proc.stdout


def test_readme_is_an_index():
    # short, with the two commands, and links to every model document that exist
    assert len(README.encode()) <= 16_000
    for link in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (ROOT / link).exists(), link
    from sim.registry import MODELS

    for name in MODELS:
        assert f"docs/models/{name}.md" in README
