"""What every CLI command shares: settings, one-line failures, running coroutines, progress."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
import zipfile
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from bot.settings import Settings, load_settings
from bot.store import Store
from bot.store.models import Voice
from engine.api import ParrotError

T = TypeVar("T")
P = ParamSpec("P")

console = Console()
error_console = Console(stderr=True, soft_wrap=True)

OPERATOR_FAILURES: tuple[type[BaseException], ...] = (
    ParrotError,
    FileNotFoundError,
    PermissionError,
    zipfile.BadZipFile,
)
"""What the operator can act on: Parrot's taxonomy, and a file they named that is missing,
unreadable or not a zip. Anything else is a bug and keeps its traceback."""


class CliError(ParrotError):
    """A failure of the command line itself (bad options, unknown voice)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


DISCORD_ID_MAX = 2**63 - 1
"""Discord ids (snowflakes) are positive 63-bit integers, as SQLite stores them."""


def one_line(message: str) -> str:
    """``message`` on one line, control characters (a newline in a file name, a terminal
    escape) shown escaped rather than acted on."""
    text = " ".join(message.split("\n"))
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def print_failure(message: str) -> None:
    error_console.print(f"parrot: {one_line(message)}", markup=False, highlight=False)


def _report(error: BaseException) -> NoReturn:
    """``parrot: <one line>`` on stderr and the error's exit status."""
    if isinstance(error, ParrotError):
        message, exit_code = error.for_operator(), error.exit_code
    else:
        message, exit_code = str(error), 1
    print_failure(message)
    raise typer.Exit(exit_code) from None


def check_output_file(path: Path, *, make_folders: bool) -> None:
    """Refuse an output path that can never be written, before any work is done: a folder,
    or a file whose folder is missing (unless ``make_folders``) or is itself a file."""
    if path.is_dir():
        fail(f"{path} is a folder: give a file name in it")
    for folder in path.absolute().parents:
        if folder.exists():
            if not folder.is_dir():
                fail(f"cannot write {path}: {folder} is a file, not a folder")
            return
        if not make_folders:
            fail(f"cannot write {path}: the folder {path.absolute().parent} does not exist")


def discord_id_option(help: str, *names: str) -> Any:
    """An optional Discord user or server id: a positive 63-bit integer, checked on input."""
    return typer.Option(None, *names, min=1, max=DISCORD_ID_MAX, help=help)


def _command(context: Any) -> str:
    """``parrot voices enroll`` whatever the program was called (``root`` in tests)."""
    return " ".join(["parrot", *str(context.command_path).split()[1:]])


class OneLineErrorsGroup(typer.core.TyperGroup):
    """The root command: its own usage errors (a missing argument, ``--owner abc``) are one
    ``parrot:`` line too, naming the help to read, instead of a framed usage block."""

    def main(  # the parameters of click.Command.main, spelled out to pass them on
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        def main(standalone: bool) -> Any:
            return super(OneLineErrorsGroup, self).main(
                args, prog_name, complete_var, standalone, windows_expand_args, **extra
            )

        if not standalone_mode:
            return main(False)
        try:
            outcome = main(False)
        except typer.TyperException as error:  # Typer's own click: usage and file errors
            if type(error).__name__ == "NoArgsIsHelpError":
                return main(True)  # nothing ran: show the help exactly as Typer does
            message = error.format_message() if hasattr(error, "format_message") else str(error)
            context = getattr(error, "ctx", None)
            where = f"; see `{_command(context)} --help`" if context is not None else ""
            print_failure(str(message).rstrip(".") + where)
            sys.exit(getattr(error, "exit_code", 2))
        except typer.Abort:
            print_failure("aborted")
            sys.exit(1)
        # Typer returns an Exit's code here; our commands themselves return None.
        sys.exit(outcome if isinstance(outcome, int) else 0)


def fail(message: str, exit_code: int = 1) -> NoReturn:
    raise CliError(message, exit_code)


def settings_from(ctx: typer.Context) -> Settings:
    """Settings for this invocation, read once (``--data`` on the root command overrides)."""
    root = ctx.find_root()
    if not isinstance(root.obj, dict):
        root.obj = {}
    if "settings" not in root.obj:
        overrides: dict[str, Any] = {}
        if root.params.get("data_dir") is not None:
            overrides["data_dir"] = root.params["data_dir"]
        root.obj["settings"] = guarded(lambda: load_settings(**overrides))
    settings: Settings = root.obj["settings"]
    return settings


def run(coroutine_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine, turning failures the operator can act on into one line."""
    try:
        return asyncio.run(coroutine_factory())
    except OPERATOR_FAILURES as error:
        _report(error)


def guarded(function: Callable[[], T]) -> T:
    """Like :func:`run` for synchronous work (settings errors included)."""
    try:
        return function()
    except OPERATOR_FAILURES as error:
        _report(error)


@contextlib.asynccontextmanager
async def open_store(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Store]:
    store = await Store.open(settings.database_path, migrate=migrate)
    try:
        yield store
    finally:
        await store.close()


async def resolve_voice(store: Store, reference: str) -> Voice:
    """The one voice whose id or name is ``reference``, or a clear failure."""
    matches = await store.voices.find(reference)
    if not matches:
        fail(f"no voice named or with id {reference!r} (see `parrot voices list`)")
    if len(matches) > 1:
        ids = ", ".join(f"{voice.id} (owner {voice.owner_id})" for voice in matches)
        fail(f"{len(matches)} voices are named {reference!r}: use an id instead: {ids}")
    return matches[0]


@contextlib.contextmanager
def byte_progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar fed by ``(done, total)`` callbacks, which may come from threads."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=error_console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def reports_errors(function: Callable[P, T]) -> Callable[P, T]:
    """Decorate a synchronous command so that expected failures print one line, exit 1."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return guarded(lambda: function(*args, **kwargs))

    return wrapper


def counting_progress(console: Console | None = None) -> Progress:
    """A progress bar (on stderr unless ``console``) that counts items done (``3/8``) and
    the time spent; it disappears when finished."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or error_console,
        transient=True,
    )
