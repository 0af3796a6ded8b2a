"""SimulatedStack: the engine's preview / up / refresh / destroy steps against the real host."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from devkit import (
    UNKNOWN,
    CheckFailedError,
    HostCallError,
    ProviderHost,
    SimulatedStack,
    UpError,
)

from .toy_provider import TOY_TYPE, DefaultDiffToy, ForgetfulToy, ToyProvider, read_events

pytestmark = pytest.mark.slow  # starts the provider host

ALPHA = {"a": {"name": "alpha"}}


def _file(store: Path, stack: SimulatedStack, name: str) -> Path:
    return store / f"{stack.resources[name].id}.json"


def _ops(store: Path) -> list[tuple[str, str]]:
    """(op, id) of the create/update/delete events, in the order they happened."""
    return [(op, id_) for op, id_, _ in read_events(store) if op in {"create", "update", "delete"}]


def test_create_then_the_next_plan_is_empty(toy_stack: SimulatedStack, toy_dir: Path) -> None:
    result = toy_stack.apply_step(ALPHA)  # includes the empty-plan-after check

    assert result.ops == {"a": "create"}
    state = toy_stack.resources["a"]
    assert state.urn == f"urn:pulumi:dev::test::{TOY_TYPE}::a"
    assert state.inputs == {
        "name": "alpha",
        "zone": "a",
        "size": 1,
        "__provider": toy_stack.provider_string,
    }
    assert state.outputs["revision"] == 1
    assert "__provider" in state.outputs
    assert json.loads(_file(toy_dir, toy_stack, "a").read_text())["name"] == "alpha"
    plan = toy_stack.preview(ALPHA)
    assert plan.is_empty
    assert plan.steps["a"].op == "same"


def test_update_changes_the_object_in_place(toy_stack: SimulatedStack, toy_dir: Path) -> None:
    toy_stack.apply_step(ALPHA)
    old_id = toy_stack.resources["a"].id

    result = toy_stack.apply_step({"a": {"name": "alpha", "size": 2}})

    assert result.ops == {"a": "update"}
    assert toy_stack.resources["a"].id == old_id
    assert toy_stack.resources["a"].outputs["revision"] == 2
    assert json.loads(_file(toy_dir, toy_stack, "a").read_text())["size"] == 2


def test_zone_change_replaces_create_before_delete(
    toy_stack: SimulatedStack, toy_dir: Path
) -> None:
    toy_stack.apply_step(ALPHA)
    old_id = toy_stack.resources["a"].id
    desired = {"a": {"name": "alpha", "zone": "B"}}

    step = toy_stack.preview(desired).steps["a"]
    assert (step.op, step.replaces, step.delete_before_replace) == ("replace", ["zone"], False)
    assert step.checked_inputs["zone"] == "b"
    result = toy_stack.apply_step(desired)

    new_id = toy_stack.resources["a"].id
    assert result.ops == {"a": "replace"}
    assert new_id != old_id
    assert _ops(toy_dir)[-2:] == [("create", new_id), ("delete", old_id)]
    assert not (toy_dir / f"{old_id}.json").exists()


def test_targeted_replace_replaces_an_unchanged_resource(
    toy_stack: SimulatedStack, toy_dir: Path
) -> None:
    desired = {"a": {"name": "alpha"}}
    toy_stack.apply_step(desired)
    old_id = toy_stack.resources["a"].id

    result = toy_stack.up(desired, replace=["a"])  # `pulumi up --replace <urn>`

    new_id = toy_stack.resources["a"].id
    assert result.ops == {"a": "replace"}
    assert _ops(toy_dir)[-2:] == [("create", new_id), ("delete", old_id)]
    assert toy_stack.preview(desired).is_empty


def test_delete_before_replace_deletes_the_old_object_first(
    toy_stack: SimulatedStack, toy_dir: Path
) -> None:
    toy_stack.apply_step({"a": {"name": "alpha", "exclusive": True}})
    old_id = toy_stack.resources["a"].id

    toy_stack.apply_step({"a": {"name": "alpha", "zone": "c", "exclusive": True}})

    new_id = toy_stack.resources["a"].id
    assert _ops(toy_dir)[-2:] == [("delete", old_id), ("create", new_id)]


def test_refresh_reports_drift_after_an_out_of_band_edit(
    toy_stack: SimulatedStack, toy_dir: Path
) -> None:
    toy_stack.apply_step({"a": {"name": "alpha"}, "b": {"name": "beta"}})
    edited = _file(toy_dir, toy_stack, "a")
    edited.write_text(json.dumps({**json.loads(edited.read_text()), "size": 9}))

    outcomes = toy_stack.refresh()

    assert {n: (o.drift, o.deleted) for n, o in outcomes.items()} == {
        "a": (True, False),
        "b": (False, False),
    }
    assert toy_stack.resources["a"].outputs["size"] == 9
    assert toy_stack.resources["a"].inputs["size"] == 9  # the provider returned inputs
    plan = toy_stack.preview({"a": {"name": "alpha"}, "b": {"name": "beta"}})
    assert {n: s.op for n, s in plan.steps.items()} == {"a": "update", "b": "same"}
    toy_stack.apply_step({"a": {"name": "alpha"}, "b": {"name": "beta"}})
    assert json.loads(edited.read_text())["size"] == 1  # drift reverted


def test_refresh_drops_a_deleted_object_and_up_recreates_it(
    toy_stack: SimulatedStack, toy_dir: Path
) -> None:
    toy_stack.apply_step(ALPHA)
    old_id = toy_stack.resources["a"].id
    (toy_dir / f"{old_id}.json").unlink()

    outcomes = toy_stack.refresh()

    assert outcomes["a"].deleted
    assert "a" not in toy_stack.resources
    assert toy_stack.preview(ALPHA).steps["a"].op == "create"
    assert toy_stack.apply_step(ALPHA).ops == {"a": "create"}
    assert toy_stack.resources["a"].id != old_id
    assert _file(toy_dir, toy_stack, "a").exists()


def test_removed_resource_is_deleted_and_destroy_leaves_nothing(
    toy_stack: SimulatedStack, toy_dir: Path
) -> None:
    toy_stack.apply_step({"a": {"name": "alpha"}, "b": {"name": "beta"}})
    b_file = _file(toy_dir, toy_stack, "b")

    result = toy_stack.apply_step(ALPHA)
    assert result.ops == {"a": "same", "b": "delete"}
    assert not b_file.exists()

    toy_stack.destroy()
    assert toy_stack.resources == {}
    assert list(toy_dir.glob("*.json")) == []
    assert toy_stack.preview({}).is_empty


def test_unknowns_reach_the_provider_as_unknown_and_plan_a_change(
    toy_stack: SimulatedStack, toy_dir: Path, toy_host: ProviderHost
) -> None:
    toy_stack.apply_step(ALPHA)
    id_ = toy_stack.resources["a"].id
    toy_host.reset_calls()

    update = toy_stack.preview({"a": {"name": UNKNOWN}}).steps["a"]
    replace = toy_stack.preview({"a": {"name": "alpha", "zone": UNKNOWN}}).steps["a"]

    assert update.op == "update"
    assert update.checked_inputs["name"] == UNKNOWN
    assert (replace.op, replace.replaces) == ("replace", ["zone"])
    events = read_events(toy_dir)
    assert ("check-unknown", "-", "name") in events  # the provider saw pulumi.output.Unknown
    assert ("diff-unknown", id_, "name") in events
    assert ("diff-unknown", id_, "zone") in events
    assert {c.method for c in toy_host.calls} == {"Check", "Diff"}  # preview changes nothing
    with pytest.raises(ValueError, match="only allowed in preview"):
        toy_stack.up({"a": {"name": UNKNOWN}})


def test_check_failures_block_up_and_name_the_property(
    toy_stack: SimulatedStack, toy_dir: Path
) -> None:
    plan = toy_stack.preview({"a": {"name": ""}})
    assert [(f.property, f.reason) for f in plan.failures["a"]] == [
        ("name", "name must be a non-empty string")
    ]
    assert not plan.is_empty

    with pytest.raises(CheckFailedError, match="a: name: name must be a non-empty string"):
        toy_stack.up({"a": {"name": ""}, "b": {"name": "beta"}})
    assert toy_stack.resources == {}
    assert list(toy_dir.glob("*.json")) == []


def test_failed_update_keeps_prior_state_and_other_steps_apply(toy_stack: SimulatedStack) -> None:
    toy_stack.apply_step({"a": {"name": "alpha"}, "b": {"name": "beta"}})
    prior_a = toy_stack.resources["a"]

    with pytest.raises(UpError) as caught:
        toy_stack.up({"a": {"name": "alpha", "size": 5, "fail_on": "update"}, "b": {"name": "b2"}})

    err = caught.value
    assert list(err.errors) == ["a"]
    assert isinstance(err.errors["a"], HostCallError)
    assert "toy refuses to update 'alpha'" in str(err)
    assert err.result.ops == {"b": "update"}
    assert toy_stack.resources["a"] == prior_a
    assert toy_stack.resources["b"].outputs["name"] == "b2"


def test_failed_delete_of_a_replaced_object_is_retried_later(
    toy_stack: SimulatedStack, toy_dir: Path
) -> None:
    toy_stack.apply_step(ALPHA)
    old_id = toy_stack.resources["a"].id
    (toy_dir / "fail-delete").touch()
    desired = {"a": {"name": "alpha", "zone": "b"}}

    with pytest.raises(UpError, match=re.escape(f"a (old id {old_id})")):
        toy_stack.up(desired)
    assert [s.id for s in toy_stack.pending_deletes] == [old_id]
    assert toy_stack.resources["a"].id != old_id  # the replacement exists

    (toy_dir / "fail-delete").unlink()
    assert toy_stack.apply_step(desired).ops == {"a": "same"}
    assert toy_stack.pending_deletes == []
    assert not (toy_dir / f"{old_id}.json").exists()


def test_unknown_diff_falls_back_to_comparing_inputs(toy_host: ProviderHost, toy_dir: Path) -> None:
    stack = SimulatedStack(
        toy_host,
        DefaultDiffToy("default-diff"),
        type_token=TOY_TYPE,
        stack_config={"toy:dir": str(toy_dir)},
    )
    stack.apply_step(ALPHA)  # equal inputs: DIFF_UNKNOWN counts as no change

    plan = stack.preview({"a": {"name": "alpha", "size": 2}})

    assert plan.steps["a"].op == "update"


def test_concurrent_up_of_20_resources_with_parallel_4(
    toy_host: ProviderHost, toy_dir: Path
) -> None:
    stack = SimulatedStack(
        toy_host,
        ToyProvider("parallel"),
        type_token=TOY_TYPE,
        stack_config={"toy:dir": str(toy_dir)},
    )
    desired: dict[str, dict[str, Any]] = {
        f"r{i:02}": {"name": f"n{i}", "delay": 0.05} for i in range(20)
    }
    toy_host.reset_calls()

    result = stack.apply_step(desired)

    assert set(result.ops.values()) == {"create"}
    assert len({s.id for s in stack.resources.values()}) == 20
    assert len(list(toy_dir.glob("*.json"))) == 20
    in_flight = [
        int(detail.split("in_flight=")[1])
        for op, _, detail in read_events(toy_dir)
        if op == "create-begin"
    ]
    assert 2 <= max(in_flight) <= 4
    methods = [c.method for c in toy_host.calls]
    assert methods.count("Create") == 20
    assert methods.count("Check") == 40  # the up's preview and the empty-plan check
    stack.destroy()
    assert list(toy_dir.glob("*.json")) == []


def test_calls_follow_the_engine_order(toy_stack: SimulatedStack, toy_host: ProviderHost) -> None:
    def methods() -> list[str]:
        names = [c.method for c in toy_host.calls]
        toy_host.reset_calls()
        return names

    toy_stack.up(ALPHA)
    assert methods() == ["Configure", "Check", "Create"]
    toy_stack.up({"a": {"name": "alpha", "size": 2}})
    assert methods() == ["Check", "Diff", "Update"]
    toy_stack.up({"a": {"name": "alpha", "size": 2, "zone": "q"}})
    assert methods() == ["Check", "Diff", "Check", "Create", "Delete"]
    toy_stack.refresh()
    assert methods() == ["Read"]
    toy_stack.destroy()
    assert methods() == ["Delete"]
    assert toy_stack.resources == {}


def test_apply_step_detects_a_perpetual_diff(toy_host: ProviderHost, toy_dir: Path) -> None:
    config = {"toy:dir": str(toy_dir)}
    stack = SimulatedStack(
        toy_host, ForgetfulToy("perpetual"), type_token=TOY_TYPE, stack_config=config
    )

    with pytest.raises(AssertionError, match=r"perpetual diff.*a: update"):
        stack.apply_step(ALPHA)
    assert stack.apply_step(ALPHA, expect_empty_plan_after=False).ops == {"a": "update"}
