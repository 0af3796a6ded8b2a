"""`python -m truto_pulumi.emulator` / `truto-emulator`: serve the emulator until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import fields
from types import FrameType

from ._base import EmulatorError
from ._ratelimit import parse_rate_limit
from ._readings import CONFIG_PATCHES, LIST_KEYS, PLAN_LIMIT_STATUSES, Readings
from ._server import Emulator
from ._state import ACCOUNT_PAGE_LIMIT


def _rate_limit(text: str) -> tuple[int, float]:
    try:
        return parse_rate_limit(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _latency(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"latency must be a number of seconds >= 0: {text!r}")
    return seconds


def _page_limit(text: str) -> int:
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if limit < 1:
        raise argparse.ArgumentTypeError(f"page limit must be an integer >= 1: {text!r}")
    return limit


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="truto-emulator",
        description="A local, stateful stand-in for Truto's MCP servers API (and its "
        "integrated accounts).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port (8787; 0 = any free port)")
    parser.add_argument(
        "--api-token",
        "--token",
        dest="api_token",
        default=os.environ.get("TRUTO_API_TOKEN"),
        help="the API token clients must send (default: $TRUTO_API_TOKEN; --token is its "
        "older spelling)",
    )
    parser.add_argument(
        "--latency", type=_latency, default=0.0, help="seconds added to every API answer"
    )
    parser.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=None,
        metavar="REQUESTS/SECONDS",
        help="enforce a per-token rate limit, e.g. 500/10 (off by default)",
    )
    parser.add_argument(
        "--account",
        action="append",
        dest="accounts",
        metavar="UUID",
        help="an integrated account id that exists (repeatable; default: every UUID exists)",
    )
    parser.add_argument(
        "--account-page-limit",
        type=_page_limit,
        default=ACCOUNT_PAGE_LIMIT,
        metavar="N",
        help=f"largest page of GET /integrated-account ({ACCOUNT_PAGE_LIMIT}); a larger "
        "`limit` is clipped to it",
    )
    parser.add_argument(
        "--public-base-url", default=None, help="base of the MCP `url` returned on create"
    )
    loose = parser.add_argument_group(
        "readings",
        "how the points Truto's documentation leaves loose are read (default: "
        "the strictest reading of each)",
    )
    loose.add_argument(
        "--config-optional",
        dest="config_required",
        action="store_false",
        help="take a create without `config` (default: refused with 400)",
    )
    loose.add_argument(
        "--no-echo-defaults",
        dest="echo_defaults",
        action="store_false",
        help="answer `config` as stored (default: with its documented defaults filled in)",
    )
    loose.add_argument(
        "--config-patch",
        choices=CONFIG_PATCHES,
        default=CONFIG_PATCHES[0],
        help="what a PATCHed `config` does (default: %(default)s)",
    )
    loose.add_argument(
        "--list-key", choices=LIST_KEYS, default=LIST_KEYS[0], help="the list answers' key"
    )
    loose.add_argument(
        "--plan-limit", type=int, default=None, metavar="N", help="MCP servers the plan allows"
    )
    loose.add_argument(
        "--plan-limit-status",
        type=int,
        choices=PLAN_LIMIT_STATUSES,
        default=403,
        help="the status of a create beyond the plan limit (%(default)s)",
    )
    loose.add_argument(
        "--blocked-account",
        action="append",
        dest="blocked_accounts",
        default=[],
        metavar="UUID",
        help="an integrated account Truto blocked: 503 to every call under it (repeatable)",
    )
    loose.add_argument(
        "--account-tools",
        type=_tools_file,
        default={},
        metavar="FILE",
        help='a JSON file {"<account UUID>": [{"resource", "method", "tags"}, ...]}: a '
        "config that matches none of an account's tools is refused with 400",
    )
    return parser


def _tools_file(path: str) -> object:
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"cannot read tools from {path}: {exc}") from None


def _settings(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Readings]:
    """The command line's settings and readings; a missing token or an impossible reading
    exits with a usage error."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.api_token:
        parser.error("--api-token is required (or set TRUTO_API_TOKEN)")
    readings = {f.name: getattr(args, f.name) for f in fields(Readings) if hasattr(args, f.name)}
    try:
        return args, Readings.from_json(readings)
    except EmulatorError as exc:
        parser.error(exc.message)


def main(argv: Sequence[str] | None = None) -> int:
    args, readings = _settings(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    emulator = Emulator(
        api_token=args.api_token,
        accounts=args.accounts,
        latency=args.latency,
        rate_limit=args.rate_limit,
        public_base_url=args.public_base_url,
        account_page_limit=args.account_page_limit,
        readings=readings,
        host=args.host,
        port=args.port,
    )
    try:
        try:
            emulator.start()
        except RuntimeError as exc:
            print(f"truto-emulator: {exc}", file=sys.stderr, flush=True)
            return 1
        print(f"Truto emulator listening on {emulator.url}", flush=True)
        while not stop.wait(timeout=0.5):
            pass
    finally:
        emulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
