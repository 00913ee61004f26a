"""``dflbench run``: train every loss × seed on every dataset of a suite and report per class."""

from __future__ import annotations

import enum
import signal
import sys
import time
from pathlib import Path

import typer

from dflbench.cli import app
from dflbench.cli._common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    OutputFormat,
    stderr_console,
)
from dflbench.errors import ConfigError
from dflbench.executors import Backend


class Device(str, enum.Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


@app.command()
def run(
    suite: str = typer.Option("imbalanced-tabular", "--suite", "-s",
                              help="Name of a shipped suite (see 'dflbench list suites') or a YAML path."),
    out: Path | None = typer.Option(None, "--out", "-o",
                                       help="Result JSON path [default: results/<suite>-<UTC time>.json]."),
    losses: str | None = typer.Option(None, help="Only these losses (labels), comma-separated."),
    datasets: str | None = typer.Option(None, help="Only these datasets, comma-separated."),
    seeds: int | None = typer.Option(None, min=1, help="Number of seeds (0..N-1), overriding the suite."),
    epochs: int | None = typer.Option(None, min=1, help="Epochs, overriding the suite."),
    folds: int | None = typer.Option(None, min=2, help="Cross-validate with N stratified folds."),
    repeats: int | None = typer.Option(None, min=1, help="Repeat the protocol's splits N times."),
    device: Device = typer.Option(Device.auto, help="Where to train."),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f",
                                               help="Report format on stdout."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress and no report; only errors."),
    jobs: int = typer.Option(1, min=1, help="Datasets trained in parallel (worker processes)."),
    backend: Backend = typer.Option(Backend.local, help="Where tasks run: this machine, Dask or Ray."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", "--address",
        help="Dask scheduler (tcp://HOST:PORT) or Ray address; default: a local cluster."),
    cache_dir: Path | None = typer.Option(
        None, help="Task cache folder [default: $XDG_CACHE_HOME/dflbench/tasks]."),
    resume: bool = typer.Option(True, "--resume/--no-resume",
                                help="Reuse finished dataset tasks from the cache."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the cache."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Validate, then list which tasks would run and which are cached."),
    html: Path | None = typer.Option(None, "--html",
                                     help="Also write a self-contained HTML report with plots here."),
) -> int:
    """Run a suite and write a versioned result JSON; print per-class recall/F1 tables."""
    # The suite first, and nothing heavy before it: a suite error is one line within a moment.
    from dflbench.config import load_suite, override

    cfg = override(load_suite(suite), losses=_split(losses), datasets=_split(datasets),
                   seeds=seeds, epochs=epochs, folds=folds, repeats=repeats)
    cache = None if no_cache else _cache(cache_dir)
    if dry_run:
        from dflbench.runner import plan

        _print_plan(cfg, plan(cfg, device.value, cache, resume)[1], cache)
        return 0
    from dflbench.executors import make_executor
    from dflbench.results import default_path
    from dflbench.results.io import utc_now

    created = utc_now()
    path = out or default_path(cfg.name, created)
    _check_outputs(path, html)
    executor = make_executor(backend, jobs, scheduler)
    err = stderr_console()
    listener = None if quiet else _Listener(err)
    result, code = _train(cfg, device.value, listener, executor, cache, resume, created, str(path))
    path, saved = _save(result, path, cache)
    if not quiet:
        _print_report(result, output_format)
    _summary(err, result, path, code, quiet)
    if html is not None:
        saved = _save_html(err, result, path, html, quiet) and saved
    return code if saved else max(code, EXIT_FAILED)


def _train(cfg, device: str, listener, executor, cache, resume: bool, created: str,
           result_path: str):
    """Run the suite with Ctrl-C and SIGTERM ending it cleanly: (result, exit code)."""
    from dflbench.runner import Interrupted, run_suite

    # SIGINT too: a shell without job control starts background commands with SIGINT ignored,
    # and `kill -INT` must still stop a run cleanly.
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        result = run_suite(cfg, device, listener, executor=executor, cache=cache, resume=resume,
                           created=created, result_path=result_path)
        return result, EXIT_FAILED if result.failed_runs else 0
    except Interrupted as stop:
        return stop.partial, EXIT_INTERRUPTED
    finally:
        if listener is not None:
            listener.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _save(result, path: Path, cache) -> tuple[Path, bool]:
    """Write the result; if that fails after training (disk full, a folder removed meanwhile),
    write it beside the task cache instead (else in the system's temporary folder), so nothing
    computed is lost: (path written, whether it is the one asked for)."""
    import tempfile

    from dflbench.cache import default_cache_dir
    from dflbench.errors import DflbenchError
    from dflbench.results import write_result

    try:
        return write_result(result, path), True
    except OSError as exc:
        problem = f"cannot write {path} ({exc.strerror or exc})"
    cache_home = cache.folder.parent if cache is not None else default_cache_dir().parent
    for folder in (cache_home / "unsaved-results", Path(tempfile.gettempdir()) / "dflbench-unsaved"):
        try:
            fallback = write_result(result, folder / path.name)
        except OSError:
            continue
        sys.stderr.write(f"dflbench: error: {problem}; wrote the result to {fallback} instead\n")
        return fallback, False
    kept = " (the finished datasets stay in the task cache)" if cache is not None else ""
    lost = DflbenchError(f"{problem}, nor beside the cache or in the temporary folder: the "
                         f"result is lost{kept}")
    lost.exit_code = EXIT_FAILED
    raise lost


def _save_html(err, result, path: Path, html: Path, quiet: bool) -> bool:
    """Write the HTML report of the saved result; if that fails after training, say how to
    render it from the result file later."""
    from dflbench.fsio import atomic_write_text
    from dflbench.report.formats.html import Html

    try:
        atomic_write_text(html, Html().report([(path.name, result)]))
    except OSError as exc:
        sys.stderr.write(f"dflbench: error: cannot write {html} ({exc.strerror or exc}); render it "
                         f"later with: dflbench report {path} --html {html}\n")
        return False
    if not quiet:
        err.print(f"wrote {html}", highlight=False)
    return True


def _summary(err, result, path: Path, code: int, quiet: bool) -> None:
    """Where the result went, what came from the cache, and the first failure, on stderr."""
    if not quiet and code == EXIT_INTERRUPTED:
        err.print(f"[yellow]interrupted: wrote the {len(result.datasets)} finished dataset(s) "
                  f"to {path} (marked incomplete)[/]")
    elif not quiet:
        reused = len(result.cache["reused"])
        note = f" ({reused} of {len(result.datasets)} dataset(s) reused from the cache)" if reused else ""
        err.print(f"wrote {path}{note}")
    for row in result.failed_runs[:1]:
        err.print(f"[red]{len(result.failed_runs)} run(s) failed; first: {row.dataset}/"
                  f"{row.label}: {row.error}[/]", markup=True, highlight=False)


def _print_plan(cfg, planned, cache) -> None:
    """The protocol, the tuning grids and, per dataset, the models it would train."""
    from rich.table import Table

    from dflbench.cli._common import stdout_console
    from dflbench.task import models_per_task
    from dflbench.tuning import config_text, configurations

    console = stdout_console()
    console.print(f"protocol: {cfg.protocol.describe(cfg.test_size)}; {len(cfg.seeds)} seed(s)",
                  soft_wrap=True)
    for lo in cfg.losses:
        grid = configurations(lo, cfg.tuning, cfg.split_seed)
        if lo.tune:
            console.print(f"tuning {lo.label}: {len(grid)} configuration(s) on "
                          f"{cfg.tuning.metric}: " + "; ".join(config_text(c) for c in grid),
                          highlight=False, soft_wrap=True)
    table = Table(title="dflbench run --dry-run", title_justify="left")
    for col in ("dataset", "models", "status", "cache key"):
        table.add_column(col)
    for p in planned:
        status = (f"cached ({_origin(p.cached.origin)})" if p.cached else
                  "would run" if cache else "would run (no cache)")
        table.add_row(p.task.entry.name, str(models_per_task(cfg)), status, p.key[:16])
    console.print(table)


def _origin(origin: dict[str, str]) -> str:
    """``from the run of <created> (<result file>)``, as far as the cache entry knows."""
    if not origin.get("created"):
        return "from an earlier run"
    where = f" ({origin['result']})" if origin.get("result") else ""
    return f"from the run of {origin['created']}{where}"


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _check_outputs(path: Path, html: Path | None) -> None:
    """The result file and the HTML report can both be written, to different files."""
    _check_writable(path)
    if html is not None:
        _check_writable(html, "--html")
        if html.resolve() == path.resolve():
            raise ConfigError(f"--html: '{html}' is the --out path; give the report its own file")


def _check_writable(path: Path, option: str = "--out") -> None:
    """Fail before training if the result (or the report) cannot be written (nothing computed
    would be lost)."""
    from dflbench.fsio import writable_folder

    if path.is_dir():
        example = "report.html" if option == "--html" else "result.json"
        raise ConfigError(f"{option}: '{path}' is a folder; give a file path such as {path}/{example}")
    try:
        writable_folder(path.parent)
    except OSError as exc:
        raise ConfigError(f"{option}: cannot write {path}: {_why(exc)}") from None


def _cache(cache_dir: Path | None):
    """The task cache: ``--cache-dir`` must be usable (an error otherwise); an unusable default
    folder is a warning, and the run goes on without the cache."""
    from dflbench.cache import TaskCache, default_cache_dir
    from dflbench.errors import ConfigError
    from dflbench.fsio import writable_folder

    folder = cache_dir or default_cache_dir()
    try:
        writable_folder(folder)
    except OSError as exc:
        if cache_dir is not None:
            raise ConfigError(f"--cache-dir: cannot keep the task cache in {folder}: {_why(exc)}") from None
        sys.stderr.write(f"dflbench: warning: cannot keep the task cache in {folder}: {_why(exc)}; "
                         "running without it (--cache-dir DIR picks another folder)\n")
        return None
    return TaskCache(folder)


def _why(exc: OSError) -> str:
    """What :func:`dflbench.fsio.writable_folder` found, in words."""
    if isinstance(exc, NotADirectoryError):
        return f"'{exc.filename}' is a file, not a folder"
    return f"cannot create files in '{exc.filename}' ({exc.strerror})"


def _print_report(result, output_format: OutputFormat) -> None:
    from dflbench.cli._common import emit
    from dflbench.report import renderer

    emit(renderer(output_format.value).suite(result))


class _Listener:
    """Progress on stderr: a live bar on a terminal, one line per dataset otherwise."""

    def __init__(self, console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = console
        self.live = console.is_terminal
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("models"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, disable=not self.live,
        )
        self.bar = self.progress.add_task("training", total=None)
        self.n_tasks = self.per_task = self.finished = 0
        self.task_began = time.perf_counter()

    def start(self, n_datasets: int, models_per_dataset: int) -> None:
        self.n_tasks, self.per_task = n_datasets, models_per_dataset
        self.progress.update(self.bar, total=n_datasets * models_per_dataset)
        self.progress.start()

    def task_started(self, dataset: str) -> None:
        self.task_began = time.perf_counter()
        self.progress.update(self.bar, description=f"training {dataset}")

    def advance(self, models: float) -> None:
        self.progress.advance(self.bar, models)

    def task_done(self, dataset: str, cached: bool = False) -> None:
        # Early stopping can end a dataset before its last epoch: count all its models as done.
        self.finished += 1
        self.progress.update(self.bar, completed=self.finished * self.per_task)
        if cached:
            how = "reused from the cache"
        else:
            how = f"done in {time.perf_counter() - self.task_began:.1f} s"
            self.task_began = time.perf_counter()
        if not self.live:
            self.console.print(f"[{self.finished}/{self.n_tasks}] {dataset} {how}")

    def close(self) -> None:
        self.progress.stop()
