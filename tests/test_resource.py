"""The resource as a Pulumi program sees it, run under `pulumi.runtime.set_mocks`."""

from __future__ import annotations

import base64
from typing import Any

import dill
import pulumi
import pytest
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

from truto_pulumi import McpServerConfigArgs, TrutoMcpServer, TrutoMcpServerArgs
from truto_pulumi.provider import TrutoMcpServerProvider

ACCOUNT = "4f5a1c2e-0000-4000-8000-000000000001"


class Recorder(pulumi.runtime.Mocks):
    """Records registrations and answers like the engine would: outputs filled in, and those
    the resource lists in `additional_secret_outputs` marked secret."""

    def __init__(self) -> None:
        self.registered: list[pulumi.runtime.MockResourceArgs] = []
        self.secret_outputs: dict[str, list[str]] = {}

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[Any, Any]]:
        self.registered.append(args)
        outputs = dict(args.inputs)
        outputs.update(url="https://api.truto.one/mcp/tok", token="tok")
        for key in self.secret_outputs.get(args.name, []):
            outputs[key] = rpc.wrap_rpc_secret(outputs[key])
        return f"{args.name}-id", outputs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, noting each resource's `additional_secret_outputs`."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder)
        self.recorder = recorder

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        self.recorder.secret_outputs[request.name] = list(request.additionalSecretOutputs)
        return super().RegisterResource(request)


@pytest.fixture
def mocks() -> Recorder:
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, preview=False, monitor=RecordingMonitor(recorder))
    return recorder


def resolved(output: pulumi.Output[Any]) -> Any:
    """The value of an output, for assertions inside a `@pulumi.runtime.test`."""
    return output.apply(lambda value: value)


@pulumi.runtime.test
def test_keyword_form_registers_the_type_token_and_inputs(mocks: Recorder) -> pulumi.Output[Any]:
    server = TrutoMcpServer(
        "hubspot-readonly",
        integrated_account_id=ACCOUNT,
        name="Read-only HubSpot",
        config=McpServerConfigArgs(methods=["read"], tags=["contacts", "companies"]),
        expires_at="2027-01-01T00:00:00Z",
    )

    def check(values: list[Any]) -> None:
        (registered,) = mocks.registered
        assert registered.typ == "pulumi-python:dynamic/truto:McpServer"
        assert registered.name == "hubspot-readonly"
        inputs = {k: v for k, v in registered.inputs.items() if k != "__provider"}
        assert inputs == {
            "integrated_account_id": ACCOUNT,
            "name": "Read-only HubSpot",
            "config": {"methods": ["read"], "tags": ["contacts", "companies"]},
            "expires_at": "2027-01-01T00:00:00Z",
        }
        assert values == [
            "hubspot-readonly-id",
            "Read-only HubSpot",
            "https://api.truto.one/mcp/tok",
        ]

    return pulumi.Output.all(server.id, server.name, server.url).apply(check)


@pulumi.runtime.test
def test_args_form_defaults_name_to_resource_name(mocks: Recorder) -> pulumi.Output[Any]:
    server = TrutoMcpServer(
        "support-bot", TrutoMcpServerArgs(integrated_account_id=ACCOUNT, config={"tags": ["t"]})
    )

    def check(name: str) -> None:
        assert name == "support-bot"
        assert mocks.registered[0].inputs["config"] == {"tags": ["t"]}

    return server.name.apply(check)


@pulumi.runtime.test
def test_output_inputs_are_accepted(mocks: Recorder) -> pulumi.Output[Any]:
    account = pulumi.Output.from_input(ACCOUNT)
    server = TrutoMcpServer("from-output", integrated_account_id=account)
    return server.integrated_account_id.apply(lambda value: assert_equal(value, ACCOUNT))


def assert_equal(left: Any, right: Any) -> None:
    assert left == right


@pulumi.runtime.test
def test_token_and_url_are_secret_outputs(mocks: Recorder) -> pulumi.Output[Any]:
    server = TrutoMcpServer("secret-check", integrated_account_id=ACCOUNT)

    def check(secrets: list[bool]) -> None:
        assert secrets == [True, True, False]

    return pulumi.Output.all(
        pulumi.Output.is_secret(server.url),
        pulumi.Output.is_secret(server.token),
        pulumi.Output.is_secret(server.name),
    ).apply(check)


@pulumi.runtime.test
def test_user_secret_outputs_are_merged_not_replaced(mocks: Recorder) -> pulumi.Output[Any]:
    opts = pulumi.ResourceOptions(additional_secret_outputs=["name"])
    server = TrutoMcpServer("merged", integrated_account_id=ACCOUNT, opts=opts)
    return pulumi.Output.all(
        pulumi.Output.is_secret(server.name),
        pulumi.Output.is_secret(server.url),
    ).apply(lambda secrets: assert_equal(secrets, [True, True]))


@pulumi.runtime.test
def test_provider_is_pickled_by_reference_and_small(mocks: Recorder) -> pulumi.Output[Any]:
    server = TrutoMcpServer("pickled", integrated_account_id=ACCOUNT)

    def check(_: Any) -> None:
        assert mocks.secret_outputs["pickled"] == ["token", "url"]
        pickled = mocks.registered[0].inputs["__provider"]
        assert isinstance(pickled, str)
        assert len(pickled) < 256
        assert b"truto_pulumi.provider" in base64.b64decode(pickled)
        assert isinstance(dill.loads(base64.b64decode(pickled)), TrutoMcpServerProvider)

    return server.id.apply(check)


def test_args_and_keywords_together_is_an_error() -> None:
    with pytest.raises(TypeError, match="not both"):
        TrutoMcpServer("x", TrutoMcpServerArgs(ACCOUNT), name="also")


def test_missing_account_is_an_error() -> None:
    with pytest.raises(TypeError, match="integrated_account_id is required"):
        TrutoMcpServer("x")
