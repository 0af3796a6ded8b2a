"""SimulatedStack: the engine's preview / up / refresh / destroy steps against the real host."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    UNKNOWN,
    CheckFailedError,
    HostCallError,
    ProviderHost,
    SimulatedStack,
    UpError,
)

from .conftest import TOY_TYPE
from .toy_provider import DefaultDiffToy, ForgetfulToy, ToyProvider, read_events

ALPHA = {"a": {"name": "alpha"}}


def _file(store: Path, stack: SimulatedStack, name: str) -> Path:
    return store / f"{stack.resources[name].id}.json"


def _ops(store: Path) -> list[tuple[str, str]]:
    """(op, id) of the create/update/delete events, in the order they happened."""
    return [(op, id_) for op, id_, _ in read_events(store) if op in {"create", "update", "delete"}]


def test_create_then_the_next_plan_is_empty(stack: SimulatedStack, store: Path) -> None:
    result = stack.apply_step(ALPHA)  # includes the empty-plan-after check

    assert result.ops == {"a": "create"}
    state = stack.resources["a"]
    assert state.urn == f"urn:pulumi:dev::test::{TOY_TYPE}::a"
    assert state.inputs == {
        "name": "alpha",
        "zone": "a",
        "size": 1,
        "__provider": stack.provider_string,
    }
    assert state.outputs["revision"] == 1
    assert "__provider" in state.outputs
    assert json.loads(_file(store, stack, "a").read_text())["name"] == "alpha"
    plan = stack.preview(ALPHA)
    assert plan.is_empty
    assert plan.steps["a"].op == "same"


def test_update_changes_the_object_in_place(stack: SimulatedStack, store: Path) -> None:
    stack.apply_step(ALPHA)
    old_id = stack.resources["a"].id

    result = stack.apply_step({"a": {"name": "alpha", "size": 2}})

    assert result.ops == {"a": "update"}
    assert stack.resources["a"].id == old_id
    assert stack.resources["a"].outputs["revision"] == 2
    assert json.loads(_file(store, stack, "a").read_text())["size"] == 2


def test_zone_change_replaces_create_before_delete(stack: SimulatedStack, store: Path) -> None:
    stack.apply_step(ALPHA)
    old_id = stack.resources["a"].id
    desired = {"a": {"name": "alpha", "zone": "B"}}

    step = stack.preview(desired).steps["a"]
    assert (step.op, step.replaces, step.delete_before_replace) == ("replace", ["zone"], False)
    assert step.checked_inputs["zone"] == "b"
    result = stack.apply_step(desired)

    new_id = stack.resources["a"].id
    assert result.ops == {"a": "replace"}
    assert new_id != old_id
    assert _ops(store)[-2:] == [("create", new_id), ("delete", old_id)]
    assert not (store / f"{old_id}.json").exists()


def test_targeted_replace_replaces_an_unchanged_resource(
    stack: SimulatedStack, store: Path
) -> None:
    desired = {"a": {"name": "alpha"}}
    stack.apply_step(desired)
    old_id = stack.resources["a"].id

    result = stack.up(desired, replace=["a"])  # `pulumi up --replace <urn>`

    new_id = stack.resources["a"].id
    assert result.ops == {"a": "replace"}
    assert _ops(store)[-2:] == [("create", new_id), ("delete", old_id)]
    assert stack.preview(desired).is_empty


def test_delete_before_replace_deletes_the_old_object_first(
    stack: SimulatedStack, store: Path
) -> None:
    stack.apply_step({"a": {"name": "alpha", "exclusive": True}})
    old_id = stack.resources["a"].id

    stack.apply_step({"a": {"name": "alpha", "zone": "c", "exclusive": True}})

    new_id = stack.resources["a"].id
    assert _ops(store)[-2:] == [("delete", old_id), ("create", new_id)]


def test_refresh_reports_drift_after_an_out_of_band_edit(
    stack: SimulatedStack, store: Path
) -> None:
    stack.apply_step({"a": {"name": "alpha"}, "b": {"name": "beta"}})
    edited = _file(store, stack, "a")
    edited.write_text(json.dumps({**json.loads(edited.read_text()), "size": 9}))

    outcomes = stack.refresh()

    assert {n: (o.drift, o.deleted) for n, o in outcomes.items()} == {
        "a": (True, False),
        "b": (False, False),
    }
    assert stack.resources["a"].outputs["size"] == 9
    assert stack.resources["a"].inputs["size"] == 9  # the provider returned inputs
    plan = stack.preview({"a": {"name": "alpha"}, "b": {"name": "beta"}})
    assert {n: s.op for n, s in plan.steps.items()} == {"a": "update", "b": "same"}
    stack.apply_step({"a": {"name": "alpha"}, "b": {"name": "beta"}})
    assert json.loads(edited.read_text())["size"] == 1  # drift reverted


def test_refresh_drops_a_deleted_object_and_up_recreates_it(
    stack: SimulatedStack, store: Path
) -> None:
    stack.apply_step(ALPHA)
    old_id = stack.resources["a"].id
    (store / f"{old_id}.json").unlink()

    outcomes = stack.refresh()

    assert outcomes["a"].deleted
    assert "a" not in stack.resources
    assert stack.preview(ALPHA).steps["a"].op == "create"
    assert stack.apply_step(ALPHA).ops == {"a": "create"}
    assert stack.resources["a"].id != old_id
    assert _file(store, stack, "a").exists()


def test_removed_resource_is_deleted_and_destroy_leaves_nothing(
    stack: SimulatedStack, store: Path
) -> None:
    stack.apply_step({"a": {"name": "alpha"}, "b": {"name": "beta"}})
    b_file = _file(store, stack, "b")

    result = stack.apply_step(ALPHA)
    assert result.ops == {"a": "same", "b": "delete"}
    assert not b_file.exists()

    stack.destroy()
    assert stack.resources == {}
    assert list(store.glob("*.json")) == []
    assert stack.preview({}).is_empty


def test_unknowns_reach_the_provider_as_unknown_and_plan_a_change(
    stack: SimulatedStack, store: Path, host: ProviderHost
) -> None:
    stack.apply_step(ALPHA)
    id_ = stack.resources["a"].id
    host.reset_calls()

    update = stack.preview({"a": {"name": UNKNOWN}}).steps["a"]
    replace = stack.preview({"a": {"name": "alpha", "zone": UNKNOWN}}).steps["a"]

    assert update.op == "update"
    assert update.checked_inputs["name"] == UNKNOWN
    assert (replace.op, replace.replaces) == ("replace", ["zone"])
    events = read_events(store)
    assert ("check-unknown", "-", "name") in events  # the provider saw pulumi.output.Unknown
    assert ("diff-unknown", id_, "name") in events
    assert ("diff-unknown", id_, "zone") in events
    assert {c.method for c in host.calls} == {"Check", "Diff"}  # preview changes nothing
    with pytest.raises(ValueError, match="only allowed in preview"):
        stack.up({"a": {"name": UNKNOWN}})


def test_check_failures_block_up_and_name_the_property(stack: SimulatedStack, store: Path) -> None:
    plan = stack.preview({"a": {"name": ""}})
    assert [(f.property, f.reason) for f in plan.failures["a"]] == [
        ("name", "name must be a non-empty string")
    ]
    assert not plan.is_empty

    with pytest.raises(CheckFailedError, match="a: name: name must be a non-empty string"):
        stack.up({"a": {"name": ""}, "b": {"name": "beta"}})
    assert stack.resources == {}
    assert list(store.glob("*.json")) == []


def test_failed_update_keeps_prior_state_and_other_steps_apply(stack: SimulatedStack) -> None:
    stack.apply_step({"a": {"name": "alpha"}, "b": {"name": "beta"}})
    prior_a = stack.resources["a"]

    with pytest.raises(UpError) as caught:
        stack.up({"a": {"name": "alpha", "size": 5, "fail_on": "update"}, "b": {"name": "b2"}})

    err = caught.value
    assert list(err.errors) == ["a"]
    assert isinstance(err.errors["a"], HostCallError)
    assert "toy refuses to update 'alpha'" in str(err)
    assert err.result.ops == {"b": "update"}
    assert stack.resources["a"] == prior_a
    assert stack.resources["b"].outputs["name"] == "b2"


def test_failed_delete_of_a_replaced_object_is_retried_later(
    stack: SimulatedStack, store: Path
) -> None:
    stack.apply_step(ALPHA)
    old_id = stack.resources["a"].id
    (store / "fail-delete").touch()
    desired = {"a": {"name": "alpha", "zone": "b"}}

    with pytest.raises(UpError, match=re.escape(f"a (old id {old_id})")):
        stack.up(desired)
    assert [s.id for s in stack.pending_deletes] == [old_id]
    assert stack.resources["a"].id != old_id  # the replacement exists

    (store / "fail-delete").unlink()
    assert stack.apply_step(desired).ops == {"a": "same"}
    assert stack.pending_deletes == []
    assert not (store / f"{old_id}.json").exists()


def test_unknown_diff_falls_back_to_comparing_inputs(host: ProviderHost, store: Path) -> None:
    stack = SimulatedStack(
        host, DefaultDiffToy("default-diff"), type_token=TOY_TYPE, config={"toy:dir": str(store)}
    )
    stack.apply_step(ALPHA)  # equal inputs: DIFF_UNKNOWN counts as no change

    plan = stack.preview({"a": {"name": "alpha", "size": 2}})

    assert plan.steps["a"].op == "update"


def test_concurrent_up_of_20_resources_with_parallel_4(host: ProviderHost, store: Path) -> None:
    stack = SimulatedStack(
        host, ToyProvider("parallel"), type_token=TOY_TYPE, config={"toy:dir": str(store)}
    )
    desired: dict[str, dict[str, Any]] = {
        f"r{i:02}": {"name": f"n{i}", "delay": 0.05} for i in range(20)
    }
    host.reset_calls()

    result = stack.apply_step(desired)

    assert set(result.ops.values()) == {"create"}
    assert len({s.id for s in stack.resources.values()}) == 20
    assert len(list(store.glob("*.json"))) == 20
    in_flight = [
        int(detail.split("in_flight=")[1])
        for op, _, detail in read_events(store)
        if op == "create-begin"
    ]
    assert 2 <= max(in_flight) <= 4
    methods = [c.method for c in host.calls]
    assert methods.count("Create") == 20
    assert methods.count("Check") == 40  # the up's preview and the empty-plan check
    stack.destroy()
    assert list(store.glob("*.json")) == []


def test_calls_follow_the_engine_order(stack: SimulatedStack, host: ProviderHost) -> None:
    def methods() -> list[str]:
        names = [c.method for c in host.calls]
        host.reset_calls()
        return names

    stack.up(ALPHA)
    assert methods() == ["Configure", "Check", "Create"]
    stack.up({"a": {"name": "alpha", "size": 2}})
    assert methods() == ["Check", "Diff", "Update"]
    stack.up({"a": {"name": "alpha", "size": 2, "zone": "q"}})
    assert methods() == ["Check", "Diff", "Check", "Create", "Delete"]
    stack.refresh()
    assert methods() == ["Read"]
    stack.destroy()
    assert methods() == ["Delete"]
    assert stack.resources == {}


def test_apply_step_detects_a_perpetual_diff(host: ProviderHost, store: Path) -> None:
    config = {"toy:dir": str(store)}
    stack = SimulatedStack(host, ForgetfulToy("perpetual"), type_token=TOY_TYPE, config=config)

    with pytest.raises(AssertionError, match=r"perpetual diff.*a: update"):
        stack.apply_step(ALPHA)
    assert stack.apply_step(ALPHA, expect_empty_plan_after=False).ops == {"a": "update"}
