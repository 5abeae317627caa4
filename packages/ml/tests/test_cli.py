"""The `recs` command's plumbing: which model it answers from, its tables, progress output
and shell completion. No TensorFlow: the artifacts here only need to pass the checksums."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from recs_ml.cli.main import main
from recs_ml.cli.output import print_table
from recs_ml.ops.model_source import (
    ModelNotFound,
    ModelSource,
    check_data_matches,
    opened_artifact,
    resolve_source,
)
from recs_ml.ops.registry import Registry
from recs_ml.pipeline.console import StepOutput
from recs_ml.progress import _plain_line, parse_plain_line
from recs_ml.serving.artifact import Manifest, write_manifest
from recs_ml.settings import get_settings


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty RECS_HOME whose endpoint URL points at a port nothing listens on."""
    monkeypatch.setenv("RECS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RECS_ENDPOINT_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    root = tmp_path_factory.mktemp("artifact")
    (root / "tfrs" / "1").mkdir(parents=True)
    (root / "tfrs" / "1" / "saved_model.pb").write_bytes(b"model" * 50)
    write_manifest(
        root,
        Manifest(
            model_name="recs-movielens",
            default_model="tfrs",
            models=["tfrs"],
            data_checksum="d" * 64,
            metrics={"tfrs": {"ndcg@10": 0.2}},
        ),
    )
    return root


def _processed(directory: Path, checksum: str = "d" * 64) -> Path:
    (directory / "meta").mkdir(parents=True)
    (directory / "meta" / "data_checksum").write_text(checksum + "\n")
    return directory


def _run_record(home: Path, run_id: str, processed: Path) -> None:
    """The run record the pipeline runner writes, reduced to what is read back."""
    run = home / "runs" / run_id
    run.mkdir(parents=True)
    steps = {"process": {"outputs": {"output": str(processed)}}}
    (run / "run.json").write_text(json.dumps({"run_id": run_id, "steps": steps}))


def _register(home: Path, artifact: Path, run_id: str | None, approve: bool = True) -> int:
    registry = Registry()
    package = registry.register(artifact, run_id=run_id)
    if approve:
        registry.approve(package.version)
    return package.version


class _Ping:
    """A stand-in endpoint answering /ping with a fixed body on a free port."""

    def __init__(self, body: dict) -> None:
        payload = json.dumps(body).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Ping:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------ which model answers


def test_an_empty_registry_names_the_commands_that_make_a_model(home):
    with pytest.raises(ModelNotFound) as error:
        resolve_source()
    message = str(error.value)
    assert "no model version of recs-movielens is registered yet" in message
    assert "scripts/demo.sh" in message and "recs pipeline run" in message
    assert "recs train" in message and "--trained" in message


def test_a_pending_version_names_the_approve_command(home, artifact):
    _register(home, artifact, None, approve=False)
    _register(home, artifact, None, approve=False)
    with pytest.raises(ModelNotFound, match=r"`recs models approve 2` \(pending: \[1, 2\]\)"):
        resolve_source()


def test_an_unknown_version_points_at_the_listing(home, artifact):
    _register(home, artifact, None)
    with pytest.raises(ModelNotFound, match=r"recs-movielens/7 does not exist; versions: \[1\]"):
        resolve_source(version=7)
    with pytest.raises(ModelNotFound, match="`recs models list`"):
        resolve_source(version=7)


def test_trained_without_recs_train_says_to_run_it(home):
    with pytest.raises(ModelNotFound, match="run `recs train` first"):
        resolve_source(trained=True)


def test_the_newest_approved_version_and_its_runs_data_answer_by_default(home, artifact, tmp_path):
    first = _processed(tmp_path / "run1-data")
    second = _processed(tmp_path / "run2-data")
    _run_record(home, "run1", first)
    _run_record(home, "run2", second)
    _register(home, artifact, "run1")
    _register(home, artifact, "run2")
    _register(home, artifact, "run2", approve=False)  # pending versions never answer by default
    source = resolve_source()
    assert (source.version, source.status, source.served) == (2, "Approved", False)
    assert source.data_dir == second
    assert source.artifact == home / "models" / "recs-movielens" / "2" / "model.tar.gz"
    assert source.label == "recs-movielens/2 (Approved, newest approved)"
    assert source.evaluation_dir == home / "evaluations" / "recs-movielens" / "2"
    picked = resolve_source(version=1)
    assert (picked.version, picked.data_dir) == (1, first)
    pending = resolve_source(version=3)
    assert pending.status == "PendingManualApproval" and pending.data_dir == second


def test_the_version_the_endpoint_serves_answers_when_it_is_this_registrys(
    home, artifact, tmp_path, monkeypatch
):
    _run_record(home, "run1", _processed(tmp_path / "data"))
    _register(home, artifact, "run1")
    _register(home, artifact, "run1")  # newest approved is 2; the endpoint serves 1
    served = Registry().describe(1)
    body = {"status": "ok", "group": "recs-movielens", "version": 1, "sha256": served.sha256}
    with _Ping(body) as ping:
        monkeypatch.setenv("RECS_ENDPOINT_URL", ping.url)
        get_settings.cache_clear()
        source = resolve_source()
        assert (source.version, source.served) == (1, True)
        assert source.label == f"recs-movielens/1 (Approved, served at {ping.url})"
        assert resolve_source(version=2).served is False
    # Another RECS_HOME's endpoint on the port (same version number, other bytes) is ignored.
    with _Ping({**body, "sha256": "0" * 64}) as ping:
        monkeypatch.setenv("RECS_ENDPOINT_URL", ping.url)
        get_settings.cache_clear()
        assert resolve_source().version == 2


def test_a_version_without_its_processed_data_asks_for_data_dir(home, artifact, tmp_path):
    _register(home, artifact, None)
    with pytest.raises(ModelNotFound, match="registered from an artifact.*pass --data-dir"):
        resolve_source()
    data = _processed(tmp_path / "given")
    assert resolve_source(data_dir=data).data_dir == data
    _run_record(home, "gone", tmp_path / "deleted")
    _register(home, artifact, "gone")
    with pytest.raises(ModelNotFound, match="processed data of model version recs-movielens/2"):
        resolve_source()


def test_a_registered_artifact_that_changed_is_refused(home, artifact, tmp_path):
    _run_record(home, "run1", _processed(tmp_path / "data"))
    _register(home, artifact, "run1")
    source = resolve_source()
    with opened_artifact(source) as (directory, manifest):
        assert manifest.models == ["tfrs"] and (directory / "tfrs" / "1").is_dir()
    assert not directory.exists()  # unpacked for the command only
    with open(source.artifact, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ValueError, match="sha256 differs from the registry's record"):
        with opened_artifact(source):
            pass


def test_a_model_and_data_from_different_runs_are_refused(tmp_path):
    source = ModelSource("m", tmp_path, tmp_path / "data", tmp_path)
    check_data_matches("a" * 64, "a" * 64, source)
    with pytest.raises(ModelNotFound, match="trained on data aaaaaaaaaaaa….*holds data bbbbbb"):
        check_data_matches("a" * 64, "b" * 64, source)


def test_cli_errors_exit_2_with_the_fix(home, capsys):
    assert main(["recommend", "--user-id", "3"]) == 2
    assert "recs pipeline run" in capsys.readouterr().err
    assert main(["evaluate", "--trained"]) == 2
    assert "run `recs train` first" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["recommend", "--user-id", "3", "--trained", "--version", "1"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_models_list_marks_the_served_version_and_prints_json(home, artifact, monkeypatch, capsys):
    assert main(["models", "list"]) == 0
    assert "no model versions of recs-movielens registered yet" in capsys.readouterr().out
    _register(home, artifact, "r1")
    _register(home, artifact, "r2", approve=False)
    body = {"group": "recs-movielens", "version": 1, "sha256": Registry().describe(1).sha256}
    with _Ping(body) as ping:
        monkeypatch.setenv("RECS_ENDPOINT_URL", ping.url)
        get_settings.cache_clear()
        assert main(["models", "list"]) == 0
        table = capsys.readouterr().out.splitlines()
        assert main(["models", "list", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
    header = next(line for line in table if "version" in line and "status" in line)
    assert header.split() == ["version", "status", "served", "created", "(UTC)", "NDCG@10", "run"]
    rows = [line.split() for line in table if line.strip()[:1].isdigit()]
    assert rows[0][:3] == ["1", "Approved", "yes"]
    assert rows[1][:2] == ["2", "PendingManualApproval"] and "yes" not in rows[1]
    assert [(p["version"], p["served"]) for p in listed] == [(1, True), (2, False)]


# ------------------------------------------------------------------------------- tables


def test_tables_off_a_terminal_are_plain_text_without_trailing_blanks():
    out = io.StringIO()
    rows = [[1, "[bold]Brazil[/bold]", None], [10, "Aliens", 1986]]
    print_table(
        ["rank", "title", "year"], rows, title="top-2 [of] them", right=("rank",), stream=out
    )
    lines = out.getvalue().splitlines()
    assert lines[0] == "top-2 [of] them"
    assert all(line == line.rstrip() for line in lines)
    assert "\x1b[" not in out.getvalue()  # no colour codes in a log
    body = [line for line in lines if "Brazil" in line or "Aliens" in line]
    assert body[0].split() == ["1", "[bold]Brazil[/bold]"]  # markup printed as written
    assert body[1].split() == ["10", "Aliens", "1986"]
    assert body[0].index("1") == body[1].index("0")  # rank is right-aligned


def test_recommendation_tables_show_match_and_reason_only_when_the_model_gives_them(capsys):
    from recs_ml.cli.train import _print_recommendations

    item = {"item_id": 175, "title": "Brazil", "year": 1985, "genres": ["Sci-Fi"], "score": 0.9}
    _print_recommendations([item], "top-1")
    header = next(line for line in capsys.readouterr().out.splitlines() if "rank" in line)
    assert header.split() == ["rank", "id", "title", "year", "genres"]
    _print_recommendations([{**item, "match": "93%", "reason": "you liked Aliens"}], "top-1")
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if "rank" in line)
    assert header.split() == ["rank", "id", "title", "year", "genres", "match", "reason"]
    assert any("93%" in line and "you liked Aliens" in line for line in lines)


# ----------------------------------------------------------------------------- progress


@pytest.mark.parametrize(
    ("done", "total", "elapsed"),
    [(51_200, 100_000, 4.1), (100_000, 100_000, 8.0), (12, None, 3.0), (0, 40, 0.0)],
)
def test_plain_progress_lines_parse_back(done, total, elapsed):
    line = _plain_line("train retrieval (final)", done, total, "examples", elapsed)
    assert parse_plain_line(line) == ("train retrieval (final)", done, total, "examples")


def test_other_lines_are_not_progress():
    for line in ("validation: EASE lambda=500 ndcg@10=0.1632", "", "{}", "a: b c"):
        assert parse_plain_line(line) is None


def test_pipeline_output_passes_lines_through_off_a_terminal():
    out = io.StringIO()
    echo = StepOutput(out, live=False)
    line = "[train] " + _plain_line("train retrieval", 5, 10, "examples", 1.0)
    echo("[process] /usr/bin/python -m recs_ml.pipeline.steps.process")
    echo(line)
    echo.close()
    assert out.getvalue().splitlines() == [
        "[process] /usr/bin/python -m recs_ml.pipeline.steps.process",
        line,
    ]


def test_pipeline_output_turns_a_steps_progress_lines_into_one_bar(capsys):
    out = io.StringIO()
    echo = StepOutput(out, live=True)
    echo("[train] validation: EASE lambda=500 ndcg@10=0.1632")
    for done in (40, 80, 100):
        echo("[train] " + _plain_line("train retrieval", done, 100, "examples", 1.0))
    echo("[train] done")
    assert out.getvalue().splitlines() == [
        "[train] validation: EASE lambda=500 ndcg@10=0.1632",
        "[train] done",
    ]
    # The bar is recs_ml.progress's (plain here: stderr is not a terminal under pytest).
    bar = capsys.readouterr().err.splitlines()
    assert len(bar) == 1 and bar[0].startswith("train: train retrieval: 100/100 examples (100%)")


# --------------------------------------------------------------------------- completion


def _complete(script: str, *words: str) -> list[str]:
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    quoted = " ".join(f"'{w}'" for w in words)
    program = (
        f"{script}\nCOMP_WORDS=({quoted}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\n"
        '_recs_complete; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_bash_completion_knows_every_command_option_and_choice(capsys):
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert "complete -o default -F _recs_complete recs" in script
    assert _complete(script, "recs", "") == [
        "data", "models", "serve", "pipeline", "train", "evaluate", "recommend", "completion",
    ]  # fmt: skip
    assert _complete(script, "recs", "mo") == ["models"]
    assert _complete(script, "recs", "models", "") == [
        "list", "describe", "approve", "reject", "register",
    ]  # fmt: skip
    assert _complete(script, "recs", "models", "list", "--status", "A") == ["Approved"]
    assert _complete(script, "recs", "recommend", "--user-id", "3", "--ver") == ["--version"]
    assert _complete(script, "recs", "evaluate", "--split", "") == ["test", "validation"]
    assert _complete(script, "recs", "pipeline", "run", "--no") == ["--no-cache"]


def test_zsh_completion_goes_through_bashcompinit(capsys):
    assert main(["completion", "zsh"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("autoload -U +X bashcompinit && bashcompinit\n")
    assert "_recs_complete()" in script
    if shutil.which("zsh") is None:
        return
    # zsh's compgen runs the function with sh emulation (0-based arrays); compadd then keeps
    # the candidates that match the word being completed.
    program = (
        "autoload -U +X compinit && compinit -u -D\n"
        f"{script}\n"
        "emulate -L sh; setopt kshglob noshglob braceexpand\n"
        "COMP_WORDS=(recs models list --status ''); COMP_CWORD=4\n"
        '_recs_complete; print -r -- "${COMPREPLY[*]}"'
    )
    done = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["PendingManualApproval", "Approved", "Rejected"]


def test_unknown_versions_and_empty_run_lists_name_the_command(home, artifact, capsys):
    _register(home, artifact, None)
    for action in ("approve", "reject", "describe"):
        assert main(["models", action, "7"]) == 2
        error = capsys.readouterr().err
        assert "recs-movielens/7 does not exist; versions: [1]" in error
        assert "`recs models list`" in error
    assert main(["pipeline", "list"]) == 0
    assert "no pipeline runs yet; run `recs pipeline run`" in capsys.readouterr().out
    assert main(["pipeline", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
