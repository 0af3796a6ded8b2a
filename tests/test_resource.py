"""The resource as a Pulumi program sees it, run under `pulumi.runtime.set_mocks`."""

from __future__ import annotations

import pickle
from typing import Any

import pulumi
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

from devkit import MCP_SERVER_TYPE, mcp_mock_outputs
from truto_pulumi import TrutoMcpServer, TrutoMcpServerArgs
from truto_pulumi.provider import TrutoMcpServerProvider
from truto_pulumi.testing import ProgramMocks, install_mocks

from .kit import ACCOUNT


@pytest.fixture
def mocks() -> ProgramMocks:
    return install_mocks(outputs=mcp_mock_outputs)


@pytest.mark.parametrize(
    ("declare", "name", "secret"),
    [
        pytest.param(lambda: None, "fallback", False, id="none"),
        pytest.param(lambda: pulumi.Output.from_input(None), "fallback", False,
                     id="output_of_none"),
        pytest.param(lambda: pulumi.Output.secret(None), "fallback", True, id="secret_none"),
        pytest.param(lambda: pulumi.Output.from_input("Declared"), "Declared", False, id="output"),
    ],
)  # fmt: skip
@pulumi.runtime.test
def test_a_name_resolving_to_none_falls_back_to_the_resource_name(
    mocks: ProgramMocks, declare: Any, name: str, secret: bool
) -> pulumi.Output[Any]:
    server = TrutoMcpServer(
        "fallback",
        TrutoMcpServerArgs(integrated_account_id=ACCOUNT, name=declare(), config={"tags": ["t"]}),
    )

    def check(values: list[Any]) -> None:
        (registered,) = mocks.run.registrations
        sent = registered.inputs["name"]
        assert (rpc.unwrap_rpc_secret(sent), rpc.is_rpc_secret(sent)) == (name, secret)
        assert registered.inputs["config"] == {"tags": ["t"]}
        assert values == [name, secret]  # a secret Output's fallback stays secret

    return pulumi.Output.all(server.name, pulumi.Output.is_secret(server.name)).apply(check)


@pulumi.runtime.test
def test_token_and_url_are_secret_outputs_beside_the_programs_own(
    mocks: ProgramMocks,
) -> pulumi.Output[Any]:
    opts = pulumi.ResourceOptions(additional_secret_outputs=["name"])
    server = TrutoMcpServer("secret-check", integrated_account_id=ACCOUNT, opts=opts)
    outputs = (server.url, server.token, server.name, server.integrated_account_id)

    def check(secrets: list[bool]) -> None:
        assert secrets == [True, True, True, False]
        assert mocks.run.registrations[0].secret_outputs == ("name", "token", "url")

    return pulumi.Output.all(*(pulumi.Output.is_secret(o) for o in outputs)).apply(check)


@pulumi.runtime.test
def test_every_server_carries_the_provider_pickled_by_reference_as_pulumi_dynamic_would(
    mocks: ProgramMocks,
) -> pulumi.Output[Any]:
    """Plain (`__provider` is no secret), and nothing of `configure`: no token, no client."""
    servers = [TrutoMcpServer(f"s{i}", integrated_account_id=ACCOUNT) for i in range(3)]
    configured = TrutoMcpServerProvider()
    configured.configure(ConfigureRequest(Config({"truto:apiToken": "tok-8c1e"}, "demo")))

    def check(_: Any) -> None:
        (pickled,) = {registered.provider for registered in mocks.run.registrations}
        assert pickled == serialize_provider(TrutoMcpServerProvider())
        assert pickled == serialize_provider(configured)
        assert b"tok-8c1e" not in pickle.dumps(configured)
        assert TrutoMcpServerProvider.serialize_as_secret_always is False
        assert isinstance(pickled, str)
        assert len(pickled) < 256

    return pulumi.Output.all(*(server.id for server in servers)).apply(check)


@pytest.mark.parametrize(
    ("args", "keywords", "error"),
    [
        (TrutoMcpServerArgs(ACCOUNT), {"name": "also"}, "not both"),
        (None, {"name": "only"}, "'x': integrated_account_id is required"),
    ],
)
def test_a_declaration_without_an_account_or_with_both_forms_is_refused(
    args: TrutoMcpServerArgs | None, keywords: dict[str, Any], error: str
) -> None:
    with pytest.raises(TypeError, match=error):
        TrutoMcpServer("x", args, **keywords)


@pytest.mark.slow
@pulumi.runtime.test
def test_a_program_of_a_thousand_servers_registers_them_all(
    mocks: ProgramMocks,
) -> pulumi.Output[Any]:
    # pulumi.dynamic re-wraps a pickle patch each time it pickles a provider; ~950 of them
    # exceed the recursion limit. TrutoMcpServer pickles its provider once per program.
    servers = [TrutoMcpServer(f"s{i}", integrated_account_id=ACCOUNT) for i in range(1200)]

    def check(ids: list[str]) -> None:
        assert len(ids) == len(mocks.run.registrations) == 1200

    return pulumi.Output.all(*(server.id for server in servers)).apply(check)


@pytest.fixture
def received(mocks: ProgramMocks, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What each resource sent the mocks (`MockResourceArgs`), its internal inputs included."""
    got: list[pulumi.runtime.MockResourceArgs] = []
    answer = mocks.new_resource

    def new_resource(args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        got.append(args)
        return answer(args)

    monkeypatch.setattr(mocks, "new_resource", new_resource)
    return got


@pulumi.runtime.test
def test_get_reads_the_existing_server_by_id_and_account_and_declares_nothing(
    received: list[pulumi.runtime.MockResourceArgs],
) -> pulumi.Output[Any]:
    """`TrutoMcpServer.get`: a read of server `id` (the engine's ReadResource, never a
    registration to create), with the account the provider's read needs and the provider."""
    server = TrutoMcpServer.get("existing", "srv-123", ACCOUNT)

    def check(values: list[Any]) -> None:
        (read,) = received
        assert (read.typ, read.name, read.resource_id) == (MCP_SERVER_TYPE, "existing", "srv-123")
        assert {key: value for key, value in read.inputs.items() if key != "__provider"} == {
            "integrated_account_id": ACCOUNT
        }
        assert read.inputs["__provider"] == serialize_provider(TrutoMcpServerProvider())
        assert isinstance(server, TrutoMcpServer)
        assert values == ["srv-123", ACCOUNT]

    return pulumi.Output.all(server.id, server.integrated_account_id).apply(check)


@pulumi.runtime.test
def test_each_server_tells_its_provider_the_urn_the_engine_gives_it(
    received: list[pulumi.runtime.MockResourceArgs],
) -> pulumi.Output[Any]:
    """A child's has its parent's qualified type, then its own; a top-level one's only its own
    (`deployment.go`, `generateURN`; the mock monitor's URNs differ: they are not checked)."""
    fleet = pulumi.ComponentResource("acme:index:Fleet", "fleet")
    TrutoMcpServer("top", integrated_account_id=ACCOUNT)
    child = TrutoMcpServer(
        "child", integrated_account_id=ACCOUNT, opts=pulumi.ResourceOptions(parent=fleet)
    )

    def check(fleet_urn: str) -> None:
        assert {args.name: args.inputs.get("__urn") for args in received} == {
            "fleet": None,
            "top": f"urn:pulumi:dev::project::{MCP_SERVER_TYPE}::top",
            "child": fleet_urn.rpartition("::")[0] + f"${MCP_SERVER_TYPE}::child",
        }

    return pulumi.Output.all(fleet.urn, child.id).apply(lambda done: check(done[0]))
