"""The README and docs/ as a newcomer reads them: every command shown runs as written (or says
what it needs), links resolve, every option is described with its default, measured figures
carry their date and benchmark, and the README stays a front door."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from support.workflow import REPO

README = REPO / "README.md"
DOCS = [README, *sorted((REPO / "docs").glob("*.md"))]
PAGES = DOCS + [REPO / "config" / "README.md"]
NEEDS = re.compile(r"#\s*needs:\s*(?P<what>.+?)\s*$")
SETUP = ["./bootstrap.sh demo", "make test"]


def bash_commands(path: Path) -> list[tuple[int, str]]:
    """(line, command) of each command in the page's ```bash blocks; a line ending in a
    backslash continues on the next; blank lines and comment lines are not commands."""
    out, block, pending = [], False, None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            block = line.strip() == "```bash"
            continue
        if not block:
            continue
        if pending:
            pending = (pending[0], pending[1] + " " + line.strip())
        elif line.strip() and not line.lstrip().startswith("#"):
            pending = (n, line.strip())
        if pending and not pending[1].endswith("\\"):
            out.append(pending)
            pending = None
        elif pending:
            pending = (pending[0], pending[1][:-1].rstrip())
    return out


def why_not_run(command: str) -> str | None:
    """Why the test does not run ``command``: what its ``# needs:`` mark says, or that it is
    the test suite itself; None for a command to run."""
    need = NEEDS.search(command)
    if need:
        return f"needs {need['what']}"
    plain = command.split(" #")[0].strip()
    if plain in ("make test", ".ci/run", "make check", "make test-workflow"):
        return "the test suite or a tier of it: CI runs it (this test is part of it)"
    if re.search(r"\bpytest\b", plain) and len(re.findall(r"tests/\S+\.py", plain)) != 1:
        return "more than one test file: CI runs the suite (this test is part of it)"
    return None


def command_params():
    """One test per command, in the order shown (README first); a command shown again is
    run once, where it is first shown."""
    params, first = [], {}
    for path in DOCS:
        for line, command in bash_commands(path):
            where = f"{path.relative_to(REPO)}:{line}"
            plain = command.split(" #")[0].strip()
            reason = why_not_run(command) or (f"the same command ran above ({first[plain]})" if plain in first else None)
            first.setdefault(plain, where)
            marks = [pytest.mark.skip(reason=reason)] if reason else []
            params.append(pytest.param(command, id=where, marks=marks))
    return params


def test_the_readme_is_a_front_door():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines: move the rest to docs/"
    first = bash_commands(README)[:2]
    assert [c.split("#")[0].strip() for _, c in first] == SETUP


def test_the_first_command_is_run_first():
    """The command test below runs the commands in the order shown, the README's first
    command (the set-up that makes .venv and a finished demo run) before any other."""
    assert command_params()[0].values[0].startswith(SETUP[0])


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project, as a fresh clone holds it, sharing this one's virtual
    environment (which is up to date: these tests run in it)."""
    root = tmp_path_factory.mktemp("docs") / "firescribe"
    skip = {".venv", ".git", "results", ".snakemake", "__pycache__", ".pytest_cache", "models", "hotword-check"}
    shutil.copytree(REPO, root, symlinks=True, ignore=lambda d, names: [n for n in names if n in skip or (d == str(REPO / "benchmarks") and n == "out")])
    venv = REPO / ".venv"
    os.symlink(venv, root / ".venv")
    # `make demo` rebuilds the environment only if pyproject.toml is newer than it
    marker = venv / "bin" / "snakemake"
    if marker.exists():
        # a second older, in nanoseconds: a float mtime can round to just after the marker's
        stamp = marker.stat().st_mtime_ns - 10**9
        os.utime(root / "pyproject.toml", ns=(stamp, stamp))
    return root


@pytest.mark.slow
@pytest.mark.media_tools
@pytest.mark.parametrize("command", command_params())
def test_every_command_shown_runs_as_written(project, command):
    """In the project's folder with the virtual environment active, as the docs say."""
    venv_bin = project / ".venv" / "bin"
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ['PATH']}", "VIRTUAL_ENV": str(project / ".venv"), "PWD": str(project)}
    proc = subprocess.run(["bash", "-c", command], cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{command}\nexit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    if command.startswith(SETUP[0]):  # the demo ends as every run does: the summary, where the results are
        assert proc.stderr.rstrip().splitlines()[-1].startswith("firescribe: HTML report: "), proc.stderr[-3000:]


def test_a_command_that_needs_your_media_says_where_it_reads_them():
    """A snakemake command marked "needs: your media in X" sets input=X (docs/vad.md's set no
    input: they ran the example, not the user's media)."""
    shown = [(path, command) for path in DOCS for _, command in bash_commands(path)
             if command.startswith("snakemake") and "your media in" in command]
    assert len(shown) >= 3
    for path, command in shown:
        folder = re.search(r"your media in (\S+)", command).group(1)
        assert f"input={folder} " in command.split(" #")[0] + " ", (path.name, command)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {slug(m) for m in re.findall(r"^#+ (.+)$", text, re.M)}


def test_every_link_resolves():
    broken = []
    for page in PAGES:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            if not dest.exists():
                broken.append(f"{page.relative_to(REPO)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{page.relative_to(REPO)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def schema_options(schema: dict, prefix: str = "") -> dict[str, dict]:
    out = {}
    for key, sub in schema.get("properties", {}).items():
        if "properties" in sub:
            out.update(schema_options(sub, f"{prefix}{key}."))
        else:
            out[prefix + key] = sub
    return out


def documented_options() -> dict[str, str]:
    """Option -> its default as docs/configuration.md's table gives it; a row may name
    several options of a section (`section.a`, `b`), with their defaults in that order."""
    out = {}
    for line in (REPO / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| `") or len(cells) < 3:
            continue
        names = re.findall(r"`([^`]+)`", cells[0])
        section = names[0].rpartition(".")[0]
        full = [n if "." in n or not section else f"{section}.{n}" for n in names]
        defaults = [d.strip().strip("`") for d in cells[1].split(", ")] if len(names) > 1 else [cells[1].strip("`")]
        assert len(defaults) == len(full), line
        out.update(zip(full, defaults))
    return out


def test_every_option_is_described_with_its_default():
    """Each option of the schema has a row, each row an option, and the row's default is
    the shipped config's (config/config.yaml, which a test keeps equal to the schema's)."""
    schema = yaml.safe_load((REPO / "config" / "schemas" / "config.schema.yaml").read_text())
    shipped = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    documented = documented_options()
    assert sorted(documented) == sorted(schema_options(schema))
    for name, default in documented.items():
        value = shipped
        for key in name.split("."):
            value = value[key]
        assert yaml.safe_load(default) == value, f"{name}: docs say {default}, config/config.yaml has {value!r}"


def test_every_pointer_to_the_options_leads_where_they_are_described():
    """config/config.yaml, the schema and the unknown-option message send the user to the
    page that describes every option (the test above): it was config/README.md, a pointer."""
    from firescribe.preflight import DOCS

    head = (REPO / "config" / "config.yaml").read_text().splitlines()[0]
    pointed = re.search(r"described in (\S+)", head).group(1)
    assert REPO / pointed == DOCS == REPO / "docs" / "configuration.md"
    for text in [(REPO / "config" / "config.yaml").read_text(), (REPO / "config" / "schemas" / "config.schema.yaml").read_text()]:
        assert "config/README.md" not in text


def test_every_benchmark_command_shown_names_options_its_script_has():
    found = 0
    for page in DOCS:
        text = page.read_text(encoding="utf-8")
        for command in re.findall(r"python (benchmarks/\w+\.py[^`\n]*)", text):
            script, *args = command.split()
            source = (REPO / script).read_text(encoding="utf-8")
            for opt in (a for a in args if a.startswith("--")):
                assert f'"{opt}"' in source, f"{page.name}: {script} has no option {opt}"
            found += 1
    assert found >= 15


def sections(path: Path) -> list[tuple[str, str]]:
    text = path.read_text(encoding="utf-8")
    parts = re.split(r"^(#+ .+)$", text, flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))


def test_every_measured_table_carries_its_date_and_benchmark():
    checked = 0
    for heading, body in sections(REPO / "docs" / "performance.md"):
        if "|---" in body:
            assert re.search(r"\b20\d\d-\d\d-\d\d\b", body), f"{heading}: a table of figures without the date measured"
            assert "benchmarks/" in body, f"{heading}: a table of figures without the command that produced it"
            checked += 1
    assert checked >= 10
    assert "## Datasets of many short files" in (REPO / "docs" / "performance.md").read_text()


def test_the_tests_that_need_shared_are_listed_in_the_development_page():
    """A test that reads ../shared/ (through the helpers that find it) is named in
    docs/development.md, which says what it needs and that it is skipped elsewhere."""
    helpers = [p.stem for p in (REPO / "tests" / "support").glob("*.py") if '"shared"' in p.read_text(encoding="utf-8")]
    assert "punc_official" in helpers
    page = (REPO / "docs" / "development.md").read_text(encoding="utf-8")
    imports = re.compile(rf"^\s*(from support import|import support\.).*\b({'|'.join(helpers)})\b", re.M)
    users = [p for p in (REPO / "tests").glob("test_*.py") if imports.search(p.read_text(encoding="utf-8"))]
    assert users
    for path in [*users, *(REPO / "tests" / "support" / f"{h}.py" for h in helpers)]:
        assert str(path.relative_to(REPO)) in page, f"docs/development.md does not say that {path.name} needs ../shared/"
