"""Run the development web server, a Celery worker and beat together; Ctrl-C stops all.

Used by ``make run``. Each process gets the same environment; when one of them exits, the
others are stopped too so that nothing is left running in the background.
"""

import argparse
import os
import signal
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    args = parser.parse_args()

    python = sys.executable
    commands = {
        "web": [python, "manage.py", "runserver", f"{args.host}:{args.port}"],
        "worker": [
            python, "-m", "celery", "-A", "anct_portal", "worker", "--beat",
            "--loglevel", "INFO", "--concurrency", "1",
        ],
    }  # fmt: skip
    processes = {
        name: subprocess.Popen(cmd, env=os.environ.copy()) for name, cmd in commands.items()
    }
    print(
        f"\n  Portail ANCT : http://{args.host}:{args.port}/  (Ctrl-C pour tout arrêter)\n",
        flush=True,
    )

    def stop(*_):
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    stop()
    failed = [name for name, p in processes.items() if p.returncode not in (0, -2, -15, None)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
