"""Everything the README shows runs as written.

Each fenced ``python`` block runs on its own in a fresh interpreter, and each shell command of a
``bash`` block (or a ``$ `` line of a ``text`` block) runs in order with the block's other
commands, all in an empty working directory that sees the repository's ``examples/``. The only
deviations are listed below, each for a reason, and a test fails if one of them no longer
matches the README (so the list cannot go stale):

* ``SKIPPED`` commands run elsewhere: the install and the test command are what ``.ci/run``
  runs, the documentation build is ``tests/test_docs.py``, a web server never ends.
* ``QUICK_OPTIONS`` shrink the commands whose written form takes long (a 60 s budget per
  method, an 8.5-minute flow fit, a 25 s fit to MNIST rows) with options of the same command;
  ``QUICK_PYTHON`` does the same for Python blocks (fewer steps or trajectories). What is
  checked is that they run, not what they find.
* ``SCHEDULER`` (a placeholder address in the README) is replaced by a live local scheduler.
* A block that uses what an earlier block made (``NEEDS``) runs after it in the same directory;
  an earlier block run that way (``COVERED``) is not run again on its own.

Blocks whose output the README states are also checked against it (``EXPECTED_OUTPUT``), and the
benchmark scripts named in the prose exist and accept the options the README gives them.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

SKIPPED = {
    ("python", "-m", "pip", "install"): ".ci/run installs the project into a fresh venv",
    ("python", "-m", "pytest"): "the test suite itself",
    ("symmetrykit", "discover", "--data", "gaussian-translation", "--dim", "7"):
        ".ci/run runs it, as written, as the main job (and checks it prints cos 1.0000)",
    ("python", "-m", "sphinx"): "tests/test_docs.py builds the documentation with these flags",
    ("python", "-m", "http.server"): "serves until stopped",
}
# (command prefix, option values replaced, options appended)
QUICK_OPTIONS = [
    (("symmetrykit", "lens", "discover", "--data", "mnist-slices"), {}, ("--steps", "20")),
    (("symmetrykit", "compare"), {"--budget": "3s"}, ()),
    (("symmetrykit", "bench", "run"), {}, ("--budget-scale", "0.05", "--n-samples", "1000")),
    (("symmetrykit", "flow", "discover"), {}, ("--iterations", "3", "--trajectories", "2")),
]
QUICK_PYTHON = {
    'SymmetryGAN(parametrization="qr", random_state=0)':
        'SymmetryGAN(parametrization="qr", n_steps=200, random_state=0)',
    'LieGAN(coefficients="integer", coef_scale=3, regularizer="norm", random_state=0)':
        'LieGAN(coefficients="integer", coef_scale=3, regularizer="norm", n_steps=200, '
        'random_state=0)',
    'sk.GeneratorFlow.preset("pde-cpu", random_state=0)':
        'sk.GeneratorFlow.preset("pde-cpu", n_iterations=3, random_state=0)',
    'sk.datasets.pde("kdv", n_trajectories=32, random_state=0)':
        'sk.datasets.pde("kdv", n_trajectories=2, random_state=0)',
}
SCHEDULER = "tcp://head:8786"
# A block is identified by a piece of its text; its standard output must contain these lines.
EXPECTED_OUTPUT = {
    "prom.fit(Z": ["4", "2"],
    'res = sk.liederiv.discover_pde(data, random_state=0)': [],
    "symmetrykit lens discover --data mnist-slices": [],
    "symmetrykit lie promote --data promote.npz": [],
}
EXPECTED_TEXT = {  # substrings rather than whole lines
    'res = sk.liederiv.discover_pde(data, random_state=0)': ["4 symmetries"],
    "symmetrykit lens discover --data mnist-slices": ["cos 1.0000"],
    "symmetrykit lie promote --data promote.npz": ["2 symmetries of 3 candidates"],
    "frame = GalileanFrame(fno, grid)": ["1 symmetry of 3 candidates",
                                         "2 symmetries of 3 candidates"],
    'sk.SymmetryLens(representation="basis", random_state=0)': ["generator cos 0.99",
                                                                "equivariance error 0.000"],
}
# Blocks that use a file an earlier block writes: that block runs first, in the same directory.
NEEDS = {"symmetrykit lie promote --data promote.npz": 'np.savez("promote.npz"',
         'out="sweeps/lens-lr", n_workers=2': "symmetrykit sweep report sweeps/lens-lr"}
# Blocks that a block of NEEDS runs anyway, in the same way: not run a second time on their own.
COVERED = ("symmetrykit sweep report sweeps/lens-lr",)
# Blocks cheap enough for the fast subset (under a second or two).
FAST = ("symmetrykit data list", "from symmetrykit import lie, metrics")


@dataclass(frozen=True)
class Block:
    line: int
    language: str
    text: str

    @property
    def id(self) -> str:
        return f"L{self.line}-{self.language}"


def readme_blocks() -> list[Block]:
    """The fenced code blocks of the README with their first line number and language."""
    blocks, current, start, language = [], None, 0, ""
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            if current is None:
                current, start, language = [], number, line[3:].strip()
            else:
                blocks.append(Block(start, language, "\n".join(current) + "\n"))
                current = None
        elif current is not None:
            current.append(line)
    assert current is None, "README.md has an unclosed code fence"
    return blocks


def shell_commands(block: Block) -> list[list[str]]:
    """The block's commands as argument lists (comments dropped, ``&&`` chains split)."""
    if block.language == "text":
        lines = [line[2:] for line in block.text.splitlines() if line.startswith("$ ")]
    else:
        lines = block.text.replace("\\\n", " ").splitlines()
    commands = []
    for line in lines:
        tokens = shlex.split(line, comments=True)
        while tokens:
            cut = tokens.index("&&") if "&&" in tokens else len(tokens)
            commands.append(tokens[:cut])
            tokens = tokens[cut + 1:]
    return commands


def _starts(tokens: list[str], prefix: tuple[str, ...]) -> bool:
    return tuple(tokens[:len(prefix)]) == prefix


def runnable_blocks() -> list[Block]:
    return [b for b in readme_blocks()
            if (b.language == "python" or (b.language in ("bash", "text") and shell_commands(b)))
            and not any(key in b.text for key in COVERED)]


def _marks(block: Block) -> list:
    return [] if any(key in block.text for key in FAST) else [pytest.mark.slow]


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["MPLBACKEND"] = "Agg"
    env.pop("SYMMETRYKIT_DEBUG", None)
    return env


def _quick_command(tokens: list[str], scheduler: str | None) -> list[str] | None:
    """The command as the test runs it, or None when it is skipped."""
    if any(_starts(tokens, prefix) for prefix in SKIPPED):
        return None
    tokens = list(tokens)
    for prefix, replaced, appended in QUICK_OPTIONS:
        if _starts(tokens, prefix):
            for option, value in replaced.items():
                tokens[tokens.index(option) + 1] = value
            tokens += list(appended)
    if SCHEDULER in tokens:
        assert scheduler is not None
        tokens[tokens.index(SCHEDULER)] = scheduler
    return tokens


def _run(args: list[str], cwd: Path, what: str) -> str:
    result = subprocess.run(args, cwd=cwd, env=_environment(), capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, (
        f"README {what} failed (exit {result.returncode}):\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-3000:]}")
    assert "still alive" not in result.stderr, f"README {what}: Dask killed a worker at exit"
    return result.stdout


def _run_block(block: Block, cwd: Path, scheduler: str | None = None) -> str:
    if block.language == "python":
        script = block.text
        for old, new in QUICK_PYTHON.items():
            script = script.replace(old, new)
        path = cwd / f"readme_{block.id}.py"
        path.write_text(script, encoding="utf-8")
        return _run([sys.executable, path.name], cwd, f"block at line {block.line}")
    out = []
    for tokens in shell_commands(block):
        command = _quick_command(tokens, scheduler)
        if command is not None:
            out.append(_run(["bash", "-c", shlex.join(command)], cwd, shlex.join(tokens)))
    return "".join(out)


def _block_with(text: str) -> Block:
    found = [b for b in readme_blocks() if text in b.text]
    assert len(found) == 1, f"{len(found)} README blocks contain {text!r}"
    return found[0]


@pytest.mark.parametrize("block", [pytest.param(b, id=b.id, marks=_marks(b))
                                   for b in runnable_blocks()])
def test_readme_block_runs_as_written(block, tmp_path, request):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    before = [_block_with(needed) for key, needed in NEEDS.items() if key in block.text]
    scheduler = None
    if any(SCHEDULER in b.text for b in [*before, block]):
        scheduler = request.getfixturevalue("client").scheduler.address
    for earlier in before:
        _run_block(earlier, tmp_path, scheduler)
    stdout = _run_block(block, tmp_path, scheduler)
    lines = [line.strip() for line in stdout.splitlines()]
    for key, expected in EXPECTED_OUTPUT.items():
        if key in block.text:
            for line in expected:
                assert line in lines, f"README block at line {block.line}: no line {line!r}"
    words = " ".join(stdout.split())  # "cos      1.0000" as the README quotes it: "cos 1.0000"
    for key, expected in EXPECTED_TEXT.items():
        if key in block.text:
            for text in expected:
                assert text in words, f"README block at line {block.line}: no {text!r}"


def test_every_deviation_still_matches_the_readme():
    """A skipped or shrunk command, or an output check, that no longer matches is stale."""
    blocks = readme_blocks()
    commands = [c for b in blocks if b.language in ("bash", "text") for c in shell_commands(b)]
    for prefix in SKIPPED:
        assert any(_starts(c, prefix) for c in commands), f"no README command {prefix}"
    for prefix, replaced, _ in QUICK_OPTIONS:
        users = [c for c in commands if _starts(c, prefix)]
        assert users, f"no README command starts with {prefix}"
        for command in users:
            assert all(option in command for option in replaced), (prefix, command)
    python = "".join(b.text for b in blocks if b.language == "python")
    for old in QUICK_PYTHON:
        assert old in python, f"no README Python block contains {old!r}"
    everything = "".join(b.text for b in blocks)
    for key in [*EXPECTED_OUTPUT, *EXPECTED_TEXT, *NEEDS, *NEEDS.values(), *FAST, SCHEDULER]:
        assert key in everything, f"no README block contains {key!r}"
    for key in COVERED:
        assert key in NEEDS.values(), f"{key!r} is not run as another block's prerequisite"


def test_the_shipped_sweep_config_is_the_one_the_readme_shows():
    toml = [b.text for b in readme_blocks() if b.language == "toml"]
    assert toml == [(ROOT / "examples" / "lens-lr.toml").read_text(encoding="utf-8")]


def test_readme_commands_are_the_ones_ci_runs():
    """The two commands: .ci/run installs, runs the main job and tests as the README says."""
    ci = [shlex.split(line, comments=True)
          for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    install, main_job = shell_commands(readme_blocks()[0])
    tests = next(c for b in readme_blocks() if b.language == "bash" for c in shell_commands(b)
                 if _starts(c, ("python", "-m", "pytest")))
    for command in (install, main_job, tests):
        assert any(_starts(line, tuple(command)) for line in ci), f"{command} not in .ci/run"


def test_benchmark_commands_in_the_prose_exist_with_their_options():
    text = README.read_text(encoding="utf-8")
    found = re.findall(r"`(?:[A-Z_]+=\S+ )?python (benchmarks/[\w./-]+\.py)([^`]*)`", text)
    assert len(found) >= 10
    for script, options in found:
        path = ROOT / script
        assert path.is_file(), f"README names {script}, which does not exist"
        source = path.read_text(encoding="utf-8") + "".join(
            p.read_text(encoding="utf-8") for p in (ROOT / "benchmarks").glob("_*.py"))
        for option in re.findall(r"(--[a-z][\w-]*)", options):
            assert f'"{option}"' in source, f"{script} has no option {option}"
