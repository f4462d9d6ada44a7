# Copyright: mailops.mailhost contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commands on the host: always in the C locale, so that their output parses the same everywhere."""

from __future__ import annotations

import os
import select
import subprocess
import tempfile
import time

C_LOCALE = {"LC_ALL": "C"}


def run(module, argv: list[str], **kwargs) -> tuple[int, str, str]:
    """Run argv (never a shell string) in the C locale; (rc, stdout, stderr). kwargs go to run_command."""
    return module.run_command(argv, environ_update=C_LOCALE, **kwargs)


def pauses(first: float = 0.05, most: float = 0.5):
    """How long to sleep between looks while waiting for a service to come back: ``first`` seconds,
    doubling up to ``most``. A reload or start is usually done within a fraction of a second, and
    a fixed pause of ``most`` made every wait at least that long; a long wait still costs few
    commands."""
    pause = first
    while True:
        yield pause
        pause = min(pause * 2, most)


def words(out: str, err: str) -> str:
    """What a failed command said, for a failure message: its stderr, else its stdout."""
    return (err or "").strip() or (out or "").strip()


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "replace").replace("\r\n", "\n")


def run_with_tty_stderr(argv: list[str], timeout: float = 120.0) -> tuple[int, str, str]:
    """Run argv with its stderr on a pseudo-terminal; (rc, stdout, stderr).

    postfix(1) and its postfix-script report problems on stderr only when stderr is a terminal
    (otherwise to syslog alone), so ``postfix check`` run through pipes fails with "exited 1" and
    no words. A pseudo-terminal carries Postfix's own words into the failure message. Used for
    those commands only; everything else goes through ``run`` (module.run_command).
    """
    master, slave = os.openpty()
    env = dict(os.environ, **C_LOCALE)
    try:
        proc = subprocess.Popen(  # noqa: S603 - argv list, never a shell
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env, close_fds=True
        )
    except OSError as exc:
        os.close(master)
        os.close(slave)
        return 127, "", str(exc)
    os.close(slave)
    out, err = b"", b""
    streams = {proc.stdout.fileno(): "out", master: "err"}
    deadline = time.monotonic() + timeout
    while streams and time.monotonic() < deadline:
        ready, _w, _x = select.select(list(streams), [], [], 0.5)
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal's other end closed (EIO)
                chunk = b""
            if not chunk:
                del streams[fd]
            elif streams[fd] == "out":
                out += chunk
            else:
                err += chunk
    if streams:
        proc.kill()
    rc = proc.wait()
    os.close(master)
    proc.stdout.close()
    return rc, _decode(out), _decode(err)


def run_with_timeout(argv: list[str], data: bytes, timeout: float) -> tuple[int, str, str]:
    """Run argv with ``data`` on its stdin, killed after ``timeout`` seconds (run_command has no timeout).

    A command that does not finish raises OSError saying so.
    """
    try:
        done = subprocess.run(  # noqa: S603 - argv list, never a shell
            argv, input=data, capture_output=True, timeout=timeout, check=False, env=dict(os.environ, **C_LOCALE)
        )
    except subprocess.TimeoutExpired as exc:
        raise OSError(f"{os.path.basename(argv[0])} did not finish within {timeout:g} s") from exc
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


def stream_lines(argv: list[str], consume) -> tuple[int, str]:
    """Run argv and hand each line of its output to ``consume`` as it comes, none held in memory.

    Returns the exit code and the first 4 KiB of stderr (kept in a temporary file, so a chatty
    stderr cannot block the command while stdout is read).
    """
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen(  # noqa: S603 - argv list, never a shell
            argv, stdout=subprocess.PIPE, stderr=errors, env=dict(os.environ, **C_LOCALE)
        ) as proc:
            for raw in proc.stdout:
                consume(raw.decode("utf-8", "replace"))
        errors.seek(0)
        return proc.returncode, errors.read(4096).decode("utf-8", "replace")
