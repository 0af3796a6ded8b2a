"""The resource as a Pulumi program sees it, run under `pulumi.runtime.set_mocks`."""

from __future__ import annotations

import base64
import inspect
from typing import Any

import dill
import pulumi
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

from devkit import MCP_SERVER_TYPE, mcp_mock_outputs
from truto_pulumi import McpServerConfigArgs, TrutoMcpServer, TrutoMcpServerArgs
from truto_pulumi.provider import TrutoMcpServerProvider
from truto_pulumi.testing import ProgramMocks, install_mocks

from .kit import ACCOUNT


@pytest.fixture
def mocks() -> ProgramMocks:
    return install_mocks(outputs=mcp_mock_outputs)


@pulumi.runtime.test
def test_keyword_form_registers_type_token_and_inputs(mocks: ProgramMocks) -> pulumi.Output[Any]:
    server = TrutoMcpServer(
        "hubspot-readonly",
        integrated_account_id=ACCOUNT,
        name="Read-only HubSpot",
        config=McpServerConfigArgs(methods=["read"], tags=["contacts", "companies"]),
        expires_at="2027-01-01T00:00:00Z",
    )

    def check(values: list[Any]) -> None:
        (registered,) = mocks.run.registrations
        assert registered.type_token == "pulumi-python:dynamic/truto:McpServer"
        assert registered.name == "hubspot-readonly"
        assert registered.inputs == {
            "integrated_account_id": ACCOUNT,
            "name": "Read-only HubSpot",
            "config": {"methods": ["read"], "tags": ["contacts", "companies"]},
            "expires_at": "2027-01-01T00:00:00Z",
        }
        assert values == [
            "hubspot-readonly-id",
            "Read-only HubSpot",
            "https://mcp.invalid/mcp/mock-token-hubspot-readonly",
        ]

    return pulumi.Output.all(server.id, server.name, server.url).apply(check)


@pulumi.runtime.test
def test_args_form_defaults_name_to_resource_name(mocks: ProgramMocks) -> pulumi.Output[Any]:
    server = TrutoMcpServer(
        "support-bot", TrutoMcpServerArgs(integrated_account_id=ACCOUNT, config={"tags": ["t"]})
    )

    def check(name: str) -> None:
        assert name == "support-bot"
        assert mocks.run.registrations[0].inputs["config"] == {"tags": ["t"]}

    return server.name.apply(check)


@pulumi.runtime.test
def test_output_inputs_are_accepted(mocks: ProgramMocks) -> pulumi.Output[Any]:
    account = pulumi.Output.from_input(ACCOUNT)
    server = TrutoMcpServer("from-output", integrated_account_id=account)
    return server.integrated_account_id.apply(lambda value: assert_equal(value, ACCOUNT))


def assert_equal(left: Any, right: Any) -> None:
    assert left == right


@pulumi.runtime.test
def test_token_and_url_are_secret_outputs(mocks: ProgramMocks) -> pulumi.Output[Any]:
    server = TrutoMcpServer("secret-check", integrated_account_id=ACCOUNT)

    def check(secrets: list[bool]) -> None:
        assert secrets == [True, True, False]

    return pulumi.Output.all(
        pulumi.Output.is_secret(server.url),
        pulumi.Output.is_secret(server.token),
        pulumi.Output.is_secret(server.name),
    ).apply(check)


@pulumi.runtime.test
def test_user_secret_outputs_are_merged_not_replaced(mocks: ProgramMocks) -> pulumi.Output[Any]:
    opts = pulumi.ResourceOptions(additional_secret_outputs=["name"])
    server = TrutoMcpServer("merged", integrated_account_id=ACCOUNT, opts=opts)
    return pulumi.Output.all(
        pulumi.Output.is_secret(server.name),
        pulumi.Output.is_secret(server.url),
    ).apply(lambda secrets: assert_equal(secrets, [True, True]))


@pulumi.runtime.test
def test_provider_is_pickled_by_reference_and_small(mocks: ProgramMocks) -> pulumi.Output[Any]:
    server = TrutoMcpServer("pickled", integrated_account_id=ACCOUNT)

    def check(_: Any) -> None:
        (registered,) = mocks.run.registrations
        assert registered.secret_outputs == ("token", "url")
        pickled = registered.provider
        assert isinstance(pickled, str)
        assert len(pickled) < 256
        assert b"truto_pulumi.provider" in base64.b64decode(pickled)
        assert isinstance(dill.loads(base64.b64decode(pickled)), TrutoMcpServerProvider)

    return server.id.apply(check)


@pulumi.runtime.test
def test_every_server_carries_the_provider_as_pulumi_dynamic_pickles_it(
    mocks: ProgramMocks,
) -> pulumi.Output[Any]:
    servers = [TrutoMcpServer(f"s{i}", integrated_account_id=ACCOUNT) for i in range(3)]

    def check(_: Any) -> None:
        pickled = {registered.provider for registered in mocks.run.registrations}
        assert pickled == {serialize_provider(TrutoMcpServerProvider())}
        assert {r.type_token for r in mocks.run.registrations} == {MCP_SERVER_TYPE}

    return pulumi.Output.all(*(server.id for server in servers)).apply(check)


def test_args_and_keywords_together_is_an_error() -> None:
    with pytest.raises(TypeError, match="not both"):
        TrutoMcpServer("x", TrutoMcpServerArgs(ACCOUNT), name="also")


def test_missing_account_is_an_error() -> None:
    with pytest.raises(TypeError, match="integrated_account_id is required"):
        TrutoMcpServer("x")


@pytest.mark.parametrize(
    ("declared", "secret"),
    [
        pytest.param(lambda: None, False, id="plain_none"),
        pytest.param(lambda: pulumi.Output.from_input(None), False, id="output_of_none"),
        pytest.param(lambda: pulumi.Output.secret(None), True, id="secret_output_of_none"),
    ],
)
@pulumi.runtime.test
def test_name_resolving_to_none_falls_back_to_the_resource_name(
    mocks: ProgramMocks, declared: Any, secret: bool
) -> pulumi.Output[Any]:
    server = TrutoMcpServer("fallback", integrated_account_id=ACCOUNT, name=declared())

    def check(values: list[Any]) -> None:
        name, name_is_secret = values
        (registered,) = mocks.run.registrations
        sent = registered.inputs["name"]
        assert rpc.unwrap_rpc_secret(sent) == "fallback"
        assert rpc.is_rpc_secret(sent) is secret  # a secret Output's fallback stays secret
        assert (name, name_is_secret) == ("fallback", secret)

    return pulumi.Output.all(server.name, pulumi.Output.is_secret(server.name)).apply(check)


@pulumi.runtime.test
def test_a_name_output_with_a_value_is_kept(mocks: ProgramMocks) -> pulumi.Output[Any]:
    server = TrutoMcpServer(
        "kept", integrated_account_id=ACCOUNT, name=pulumi.Output.from_input("Declared")
    )

    def check(name: str) -> None:
        assert mocks.run.registrations[0].inputs["name"] == "Declared"
        assert name == "Declared"

    return server.name.apply(check)


@pytest.mark.slow
@pulumi.runtime.test
def test_a_program_of_a_thousand_servers_registers_them_all(
    mocks: ProgramMocks,
) -> pulumi.Output[Any]:
    # pulumi.dynamic re-wraps a pickle patch each time it pickles a provider; ~950 of them
    # exceed the recursion limit. TrutoMcpServer pickles its provider once per program.
    servers = [
        TrutoMcpServer(f"s{i}", integrated_account_id=ACCOUNT, name=f"server {i}")
        for i in range(1200)
    ]

    def check(ids: list[str]) -> None:
        assert len(ids) == len(mocks.run.registrations) == 1200

    return pulumi.Output.all(*(server.id for server in servers)).apply(check)


def test_output_annotations_exist_for_type_checkers_only() -> None:
    # Pulumi evaluates a resource class's runtime annotations with typing.get_type_hints at
    # every registration; without any, a program registers each server milliseconds faster.
    assert inspect.get_annotations(TrutoMcpServer) == {}


@pulumi.runtime.test
def test_get_reads_the_existing_server_by_id_and_account_and_declares_nothing(
    mocks: ProgramMocks, monkeypatch: pytest.MonkeyPatch
) -> pulumi.Output[Any]:
    """`TrutoMcpServer.get`: a read of server `id` (the engine's ReadResource, never a
    registration to create), with the account the provider's read needs and the provider."""
    reads: list[pulumi.runtime.MockResourceArgs] = []
    answer = mocks.new_resource

    def new_resource(args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        reads.append(args)
        return answer(args)

    monkeypatch.setattr(mocks, "new_resource", new_resource)
    server = TrutoMcpServer.get("existing", "srv-123", ACCOUNT)

    def check(values: list[Any]) -> None:
        (read,) = reads
        assert (read.typ, read.name, read.resource_id) == (MCP_SERVER_TYPE, "existing", "srv-123")
        assert {key: value for key, value in read.inputs.items() if key != "__provider"} == {
            "integrated_account_id": ACCOUNT
        }
        assert read.inputs["__provider"] == serialize_provider(TrutoMcpServerProvider())
        assert isinstance(server, TrutoMcpServer)
        assert values == ["srv-123", ACCOUNT]

    return pulumi.Output.all(server.id, server.integrated_account_id).apply(check)
