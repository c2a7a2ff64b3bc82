"""Hostile configuration files end in one clear error naming the file: never a hang, a crash or a traceback.

Each finding of the second hostile-input round is reproduced here: an alias bomb, 20,000 nested brackets,
a binary and a Latin-1 file, and a 36 MB file of comments. The fuzz tests at the end bound memory (peak
traced allocation) and work (values built), not the time of normal behaviour.
"""

from __future__ import annotations

import contextlib
import signal
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from datahealth.cli import app
from datahealth.config import ConfigError, load_project
from datahealth.config.bounded_yaml import MAX_ALIAS_VALUES, MAX_DEPTH, MAX_FILE_BYTES
from datahealth.config.yaml_source import read_yaml

cli = CliRunner()
ALIAS_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
)
MEMORY_BOUND = 64 * 1024 * 1024  # peak traced allocation while loading any one hostile file


def hostile_files() -> dict[str, tuple[bytes, str]]:
    """name → (file content, what the one error says)."""
    comment = b"# " + b"x" * 78 + b"\n"
    return {
        "alias bomb": (ALIAS_BOMB.encode(), f"aliases expand to more than {MAX_ALIAS_VALUES:,} values"),
        "nested brackets": (b"sources: " + b"[" * 20_000 + b"]" * 20_000, f"more than {MAX_DEPTH} levels"),
        "nested mappings": (
            "".join(f"{' ' * i}k{i}:\n" for i in range(200)).encode(),
            f"more than {MAX_DEPTH} levels",
        ),
        "binary": (bytes(range(256)) * 8, "a binary file"),
        # found by the structure fuzz below: an anchor holding an alias to itself recursed without end
        "recursive alias": (b"sources:\n  a: &a [x, *a]\n", "a recursive alias"),
        "latin-1": ("project:\n  name: café\n".encode("latin-1"), "not UTF-8 text (byte 0xe9"),
        "36 MB of comments": (
            comment * (36 * 1024 * 1024 // len(comment)),
            f"larger than {MAX_FILE_BYTES // 1024} KB",
        ),
    }


def project_with(root: Path, content: bytes) -> Path:
    (root / "sla_config").mkdir(parents=True)
    (root / "sla_config" / "hostile.yaml").write_bytes(content)
    return root


@pytest.mark.parametrize("name", list(hostile_files()))
def test_a_hostile_file_is_one_error_naming_it_within_a_memory_bound(tmp_path: Path, name: str) -> None:
    content, expected = hostile_files()[name]
    root = project_with(tmp_path, content)
    tracemalloc.start()
    try:
        with watchdog(HANG_BOUND_SECONDS), pytest.raises(ConfigError) as caught:
            load_project(root)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    [issue] = caught.value.issues
    assert issue.file.name == "hostile.yaml" and expected in issue.message, issue
    assert "\n" not in str(issue)
    assert peak < MEMORY_BOUND + (len(content) if len(content) <= MAX_FILE_BYTES else MAX_FILE_BYTES)


@pytest.mark.parametrize("command", [["validate"], ["run", "--no-prefect"]])
@pytest.mark.parametrize("name", ["alias bomb", "nested brackets", "latin-1", "binary", "recursive alias"])
def test_validate_and_run_exit_2_naming_the_file(tmp_path: Path, command: list[str], name: str) -> None:
    content, expected = hostile_files()[name]
    root = project_with(tmp_path, content)
    result = cli.invoke(app, [*command, "-p", str(root)])
    assert result.exit_code == 2, result.output
    assert "hostile.yaml" in result.output and expected in result.output
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )


def test_a_file_just_under_the_size_limit_is_read(tmp_path: Path) -> None:
    comment = b"# " + b"x" * 78 + b"\n"
    body = b"project:\n  name: big\n" + comment * ((MAX_FILE_BYTES - 100) // len(comment))
    assert MAX_FILE_BYTES - 200 < len(body) <= MAX_FILE_BYTES
    doc = read_yaml(project_with(tmp_path, body) / "sla_config" / "hostile.yaml")
    assert doc.issues == [] and doc.data == {"project": {"name": "big"}}


def test_ordinary_aliases_still_work(tmp_path: Path) -> None:
    text = "defaults: &d {warn_after: 1d}\nx: [*d, *d, *d]\n"
    doc = read_yaml(project_with(tmp_path, text.encode()) / "sla_config" / "hostile.yaml")
    assert doc.issues == [] and doc.data["x"] == [{"warn_after": "1d"}] * 3


HANG_BOUND_SECONDS = 20  # a watchdog against hangs (an alias bomb ran for minutes), not a timing


@contextlib.contextmanager
def watchdog(seconds: int) -> Iterator[None]:
    """Raise TimeoutError in this thread if the block runs longer than `seconds` (CPU or wall: a hang)."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"loading took longer than {seconds}s: unbounded work")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _bounded_load(path: Path) -> None:
    """Load one fuzzed file: a YamlDocument or its issues, within the memory bound, never an exception."""
    tracemalloc.start()
    try:
        with watchdog(HANG_BOUND_SECONDS):
            doc = read_yaml(path, environ={})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND
    assert all(issue.file == path for issue in doc.issues)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=2_000))
def test_fuzz_bytes_never_raise_and_stay_bounded(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(content)
    _bounded_load(path)


# YAML structures: nesting, anchors and aliases at random, the shapes that hurt a loader.
_atoms = st.sampled_from(["a", "1", '"x"', "~", "[]", "{}", "*a1", "*a2", "&a1 v", "&a2 [x, y]", "'q'"])
_structures = st.recursive(
    _atoms,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(st.sampled_from(["k", "j", "<<", "? k"]), inner), max_size=6).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
        ),
        st.tuples(st.sampled_from(["&a1", "&a2"]), inner).map(lambda t: f"{t[0]} {t[1]}"),
    ),
    max_leaves=60,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(st.sampled_from("abcdefgh"), _structures), max_size=10))
@example(lines=[("h", "&a2 [*a2]")])  # once found: a recursive alias
def test_fuzz_yaml_structures_never_raise_and_stay_bounded(
    tmp_path: Path, lines: list[tuple[str, str]]
) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text("\n".join(f"{key}: {value}" for key, value in lines))
    _bounded_load(path)
