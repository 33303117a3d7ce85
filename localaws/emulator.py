"""The embedded AWS emulator: moto's server plus localaws' compatibility shims.

    python -m localaws.emulator --host 127.0.0.1 --port 4566            # foreground
                                     # (+ SageMaker runtime on --hosting-port, default 4567)
    python -m localaws.emulator --port 4566 --pidfile P --detach        # background, waits ready
    python -m localaws.emulator --pidfile P --stop                      # SIGTERM, wait, clean up

Port 4566 is LocalStack's edge port, so LocalStack clients and plain boto3 with
AWS_ENDPOINT_URL=http://127.0.0.1:4566 both reach it. moto starts no containers; the runtime
(localaws.runtime) runs what AWS runs by itself — Lambda, Batch, EventBridge, alarms, scaling,
Step Functions — as local processes (`--runtime-off lambda,batch` or LOCALAWS_RUNTIME_OFF switch
services off, `--no-runtime` all of them).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
READY_TIMEOUT_S = 20.0


class EmulatorError(RuntimeError):
    """The emulator could not be started or stopped."""


def endpoint_url(host: str, port: int) -> str:
    return f"http://{host}:{port}"


def is_ready(url: str, timeout: float = 0.5) -> bool:
    """True once the server answers HTTP (any status: moto answers 404 on unknown paths)."""
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def wait_ready(
    url: str, timeout: float = READY_TIMEOUT_S, proc: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_ready(url):
            return
        if proc is not None and proc.poll() is not None:
            raise EmulatorError(f"emulator exited with code {proc.returncode} before it was ready")
        time.sleep(0.05)
    raise EmulatorError(f"emulator at {url} not ready after {timeout:.0f} s")


def _configure_moto() -> None:
    """Containers never run; AWS managed IAM policies exist (roles attach them, as on AWS)."""
    from moto.core.config import default_user_config

    default_user_config["batch"] = {"use_docker": False}
    default_user_config["lambda"] = {"use_docker": False}
    default_user_config["iam"] = {"load_aws_managed_policies": True}


def serve(
    host: str,
    port: int,
    pidfile: Path | None = None,
    hosting_port: int | None = None,
    runtime_services: list[str] | None = None,
) -> None:
    """Run the emulator (the local SageMaker hosting on `hosting_port`, unless None; the runtime's
    `runtime_services`) in this process until SIGTERM/SIGINT; then stop cleanly: the runtime's
    processes first, then the hosting (flushing buffered data capture), then the emulator."""
    os.environ.setdefault("MOTO_PORT", str(port))
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from localaws import shims

    _configure_moto()
    shims.apply()
    app = DomainDispatcherApplication(create_backend_app)
    runtime = None
    if runtime_services:
        from localaws.runtime import Runtime

        runtime = Runtime(
            endpoint_url(host, port),
            endpoint_url(host, hosting_port) if hosting_port is not None else None,
            runtime_services,
            region=os.environ["AWS_DEFAULT_REGION"],
        )
        runtime.start()
        app = runtime.wsgi(app)
    servers = [make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)]
    hosting = None
    if hosting_port is not None:
        from localaws.hosting import RegionalHosting, create_app

        hosting = RegionalHosting(endpoint_url(host, port), os.environ["AWS_DEFAULT_REGION"])
        servers.append(make_server(host, hosting_port, create_app(hosting), threaded=True))
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threads = [
        threading.Thread(target=server.serve_forever, name=f"serve-{i}", daemon=True)
        for i, server in enumerate(servers)
    ]
    for thread in threads:
        thread.start()
    if pidfile is not None:
        pidfile.parent.mkdir(parents=True, exist_ok=True)
        pidfile.write_text(f"{os.getpid()}\n")
    ready = f"localaws emulator ready on {endpoint_url(host, port)}"
    if hosting_port is not None:
        ready += f", SageMaker runtime on {endpoint_url(host, hosting_port)}"
    if runtime is not None:
        ready += f"; runtime: {', '.join(runtime.names)}"
    print(ready, flush=True)
    try:
        stop.wait()
    finally:
        if runtime is not None:
            runtime.stop()
        # Hosting first: its last capture flush still needs the emulator's S3.
        for server in reversed(servers):
            server.shutdown()
            if hosting is not None and server is servers[-1]:
                hosting.close()
        for thread, server in zip(threads, servers, strict=True):
            thread.join(timeout=5)
            server.server_close()
        if pidfile is not None:
            with contextlib.suppress(FileNotFoundError):
                pidfile.unlink()


def start_detached(
    host: str,
    port: int,
    pidfile: Path,
    log: Path,
    hosting_port: int | None = None,
    runtime_args: list[str] | None = None,
) -> int:
    """Start the emulator as a background process; return its PID once it answers."""
    url = endpoint_url(host, port)
    running = read_pid(pidfile)
    if running is not None:
        if is_ready(url):
            return running
        raise EmulatorError(
            f"pidfile {pidfile} names process {running}, which does not answer on {url}; "
            "run `make emulator-down` first"
        )
    if is_ready(url):
        raise EmulatorError(f"something else already answers on {url}; choose another --port")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "localaws.emulator",
                "--host",
                host,
                "--port",
                str(port),
                "--pidfile",
                str(pidfile),
                *(
                    ["--no-hosting"]
                    if hosting_port is None
                    else ["--hosting-port", str(hosting_port)]
                ),
                *(runtime_args or []),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        wait_ready(url, proc=proc)
    except EmulatorError as exc:
        proc.kill()
        tail = log.read_text(errors="replace")[-2000:]
        raise EmulatorError(f"{exc}\n--- {log} ---\n{tail}") from None
    return proc.pid


def read_pid(pidfile: Path) -> int | None:
    """The PID in the pidfile if that process is alive; a stale pidfile is removed."""
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
        return None
    return pid


def stop(pidfile: Path, timeout: float = 10.0) -> bool:
    """SIGTERM the emulator named by the pidfile and wait for it to exit. False if none ran."""
    pid = read_pid(pidfile)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localaws.emulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (default: %(default)s)"
    )
    parser.add_argument(
        "--hosting-port",
        type=int,
        help="port of the local SageMaker runtime (InvokeEndpoint; default: --port + 1)",
    )
    parser.add_argument(
        "--no-hosting", action="store_true", help="run the AWS emulator without SageMaker hosting"
    )
    parser.add_argument(
        "--runtime-off",
        metavar="SERVICES",
        help="comma-separated runtime services not to run (lambda, batch, events, alarms, "
        "scaling, deployments, stepfunctions, transform, or all; default: $LOCALAWS_RUNTIME_OFF)",
    )
    parser.add_argument(
        "--no-runtime", action="store_true", help="run no runtime service (moto alone)"
    )
    parser.add_argument("--pidfile", type=Path, help="write the server's PID here while it runs")
    parser.add_argument(
        "--log", type=Path, help="with --detach: log file (default: beside pidfile)"
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--detach", action="store_true", help="run in the background")
    action.add_argument("--stop", action="store_true", help="stop the emulator named by --pidfile")
    action.add_argument(
        "--status", action="store_true", help="exit 0 if the emulator named by --pidfile runs"
    )
    args = parser.parse_args(argv)

    if (args.detach or args.stop or args.status) and args.pidfile is None:
        parser.error("--detach, --stop and --status need --pidfile")
    hosting_port = None if args.no_hosting else (args.hosting_port or args.port + 1)
    from localaws.runtime import SettingError, enabled_services

    try:
        services = enabled_services(args.runtime_off, all_off=args.no_runtime)
    except SettingError as exc:
        parser.error(str(exc))
    runtime_args = (
        ["--no-runtime"]
        if not services
        else (["--runtime-off", args.runtime_off] if args.runtime_off else [])
    )
    if args.status:
        pid = read_pid(args.pidfile)
        print(f"emulator running (pid {pid})" if pid else "no emulator running")
        return 0 if pid else 1
    try:
        if args.stop:
            stopped = stop(args.pidfile)
            print("emulator stopped" if stopped else "no emulator running")
            return 0
        if args.detach:
            log = args.log or args.pidfile.with_suffix(".log")
            pid = start_detached(
                args.host, args.port, args.pidfile, log, hosting_port, runtime_args
            )
            ready = f"localaws emulator (pid {pid}) ready on {endpoint_url(args.host, args.port)}"
            if hosting_port is not None:
                ready += f", SageMaker runtime on {endpoint_url(args.host, hosting_port)}"
            print(ready)
            return 0
    except EmulatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        serve(args.host, args.port, args.pidfile, hosting_port, services)
    except SettingError as exc:  # a runtime service's setting (LOCALAWS_*) is wrong
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"error: cannot serve on {args.host}:{args.port}/{hosting_port}: {exc}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
