"""A stateful local stand-in for Truto's MCP servers API (`/integrated-account/{ia}/mcp`).

Needs the `emulator` extra (starlette, uvicorn). In tests::

    from truto_pulumi.emulator import Emulator

    with Emulator(token="test-token") as emu:            # uvicorn on 127.0.0.1, a free port
        with emu.client() as api:                         # httpx, base URL + bearer token set
            created = api.post(f"/integrated-account/{ia}/mcp", json={"name": "docs"}).json()
        emu.inject(method="GET", status=503, times=2)     # the next two GETs answer 503
        emu.inject(method="POST", lose_answer=True)       # the next create happens, answer lost
        emu.edit_server(created["id"], name="renamed")    # out-of-band (dashboard) edit
        assert [e["status"] for e in emu.journal()] == [201]

From a shell: ``python -m truto_pulumi.emulator --port 8787 --token T`` (or ``truto-emulator``).
As an ASGI app: ``create_app(token="T")``. Test hooks live under ``/_emulator/`` (no auth):
``journal``, ``faults``, ``servers``, ``reset``, ``latency``, ``rate-limit``, ``config-rules``,
``health``.
"""

from __future__ import annotations

from ._app import create_app
from ._server import Emulator, run_emulator

__all__ = ["Emulator", "create_app", "run_emulator"]
