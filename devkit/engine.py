"""`SimulatedStack`: the engine's step logic for one dynamic resource type, on a `ProviderHost`:
its state between runs (inputs and outputs, `__provider` included) and its calls in its order:
Check (olds: the previous inputs) and Diff (olds: the previous outputs) in preview; Create,
Update, Delete in up; Read in refresh. A replacement re-runs Check without olds, create before
delete; deletions run last; a failed step keeps the prior state; an empty Read id drops the
resource; secrets reach the provider plain. Not mirrored: dependencies, secret marks in the
state, resource options, import.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

from .host import HostCheckFailure, ProviderHost, contains_unknown

PROVIDER_KEY = "__provider"

Op = Literal["create", "same", "update", "replace", "delete"]
_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(frozen=True)
class ResourceState:
    """One resource as the engine stores it."""

    id: str
    urn: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """What preview decided for one resource; `checked_inputs` are Check's canonical inputs."""

    op: Op
    checked_inputs: dict[str, Any]
    replaces: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    """The result of a preview."""

    steps: dict[str, Step]
    failures: dict[str, list[HostCheckFailure]]

    @property
    def is_empty(self) -> bool:
        """No changes (every op "same") and no check failures."""
        return not self.failures and all(step.op == "same" for step in self.steps.values())

    def assert_empty(self) -> None:
        """Raise `AssertionError` naming each change and failure: a perpetual diff after an up."""
        if not self.is_empty:
            found = [f"{n}: {s.op}" + (f" (replaces {s.replaces})" if s.replaces else "")
                     for n, s in self.steps.items() if s.op != "same"]  # fmt: skip
            found += [f"{name}: check failed {fs}" for name, fs in self.failures.items()]
            raise AssertionError(
                "plan after apply is not empty (perpetual diff): " + "; ".join(found)
            )


@dataclass(frozen=True)
class UpOutcome:
    """What an `up` planned and which op it performed per resource (successful ones only)."""

    plan: Plan
    ops: dict[str, Op]


@dataclass(frozen=True)
class RefreshOutcome:
    """Refresh result for one resource; `deleted` implies `drift`."""

    drift: bool
    deleted: bool = False


class CheckFailedError(Exception):
    """Check returned failures; nothing was applied."""

    def __init__(self, failures: Mapping[str, list[HostCheckFailure]]) -> None:
        self.failures = dict(failures)
        lines = [f"  {n}: {f.property}: {f.reason}" for n, fs in self.failures.items() for f in fs]
        super().__init__("check failed:\n" + "\n".join(lines))


class OperationError(Exception):
    """Some steps of an operation failed; `errors` maps resource names to their exceptions."""

    def __init__(self, operation: str, errors: Mapping[str, Exception]) -> None:
        self.errors = dict(errors)
        lines = [f"  {name}: {err}" for name, err in self.errors.items()]
        super().__init__(f"{operation} failed for {len(lines)} resource(s):\n" + "\n".join(lines))


class UpError(OperationError):
    """`up` had failed steps; `result` says what did succeed (failed resources kept prior state)."""

    def __init__(self, errors: Mapping[str, Exception], result: UpOutcome) -> None:
        super().__init__("up", errors)
        self.result = result


class SimulatedStack:
    """Engine-like state and steps for resources of one dynamic type, all served by `host`: `up`
    applies the plan with `parallel` workers; a failed step stops no other (as `pulumi up
    --continue-on-error`), keeps its prior state, and `UpError` is raised at the end."""

    def __init__(
        self,
        host: ProviderHost,
        provider: ResourceProvider,
        *,
        type_token: str,
        project: str = "test",
        stack: str = "dev",
        stack_config: Mapping[str, Any] | None = None,
        parallel: int = 4,
        new_host_each_run: bool = False,
    ) -> None:
        self.host = host
        self.new_host_each_run = new_host_each_run
        """Restart the host at every run, as the engine starts a provider process for each."""
        self.type_token = type_token
        self.project = project
        self.stack = stack
        self.stack_config = dict(stack_config or {})
        self.parallel = parallel
        self.provider_string: str = serialize_provider(provider)
        self.resources: dict[str, ResourceState] = {}
        self.pending_deletes: list[ResourceState] = []
        self._configured = False
        self._lock = threading.Lock()

    def urn(self, name: str) -> str:
        """The URN of resource `name`."""
        return f"urn:pulumi:{self.stack}::{self.project}::{self.type_token}::{name}"

    def _ensure_configured(self) -> None:
        """Begin a run: on a new host if `new_host_each_run`, and configure it once."""
        with self._lock:
            if self.new_host_each_run:
                self.host.restart()
                self._configured = False
            if not self._configured:
                self.host.configure(self.stack_config)
                self._configured = True

    def _map(self, fn: Callable[[_K], _V], items: Iterable[_K]) -> dict[_K, _V | Exception]:
        """Run `fn` on each item with `parallel` workers; exceptions are returned, not raised."""

        def guarded(item: _K) -> _V | Exception:
            try:
                return fn(item)
            except Exception as err:
                return err

        keys = list(items)
        with ThreadPoolExecutor(max_workers=max(1, self.parallel)) as pool:
            return dict(zip(keys, pool.map(guarded, keys), strict=True))

    def _set(self, name: str, state: ResourceState | None) -> None:
        with self._lock:
            if state is None:
                self.resources.pop(name, None)
            else:
                self.resources[name] = state

    def _plan_one(self, name: str, props: Mapping[str, Any]) -> Step | list[HostCheckFailure]:
        """The step for one resource, or Check's failures."""
        urn = self.urn(name)
        prior = self.resources.get(name)
        news = {**props, PROVIDER_KEY: self.provider_string}
        checked = self.host.check(urn, prior.inputs if prior else {}, news)
        if checked.failures or prior is None:
            return checked.failures or Step("create", checked.inputs)
        changes, replaces = self.host.diff(
            prior.id, urn, prior.outputs, checked.inputs, prior.inputs
        )
        if not changes or not replaces:
            return Step("update" if changes else "same", checked.inputs)
        # A replacement re-runs Check without olds: defaults must not be carried over.
        rechecked = self.host.check(urn, {}, news)
        return rechecked.failures or Step("replace", rechecked.inputs, replaces)

    def preview(self, desired: Mapping[str, Mapping[str, Any]]) -> Plan:
        """Plan `desired` against the state: Check (and Diff for existing resources) only."""
        self._ensure_configured()
        return self._plan(desired)

    def _plan(self, desired: Mapping[str, Mapping[str, Any]]) -> Plan:
        results = self._map(lambda n: self._plan_one(n, desired[n]), desired)
        steps: dict[str, Step] = {}
        failures: dict[str, list[HostCheckFailure]] = {}
        for name, result in results.items():
            if isinstance(result, Exception):
                raise result
            if isinstance(result, Step):
                steps[name] = result
            else:
                failures[name] = result
        for name, state in self.resources.items():
            if name not in desired:
                steps[name] = Step("delete", state.inputs)
        return Plan(steps, failures)

    def _create(self, name: str, step: Step) -> ResourceState:
        urn = self.urn(name)
        id_, outputs = self.host.create(urn, step.checked_inputs)
        return ResourceState(id_, urn, step.checked_inputs, outputs)

    def _delete(self, state: ResourceState) -> None:
        self.host.delete(state.id, state.urn, state.outputs, state.inputs)

    def _apply_one(self, name: str, step: Step) -> list[ResourceState]:
        """Apply one non-delete step; returns old states left to delete afterwards."""
        prior = self.resources.get(name)
        if step.op in ("create", "replace"):
            self._set(name, self._create(name, step))
            return [prior] if prior is not None else []
        assert prior is not None
        outputs = prior.outputs  # a "same" keeps the outputs as stored
        if step.op == "update":
            olds, news = prior.outputs, step.checked_inputs
            outputs = self.host.update(prior.id, prior.urn, olds, news, prior.inputs)
        self._set(name, ResourceState(prior.id, prior.urn, step.checked_inputs, outputs))
        return []

    def _delete_phase(
        self, names: list[str], olds: list[ResourceState]
    ) -> tuple[list[str], dict[str, Exception]]:
        """Delete resources `names` and replaced `olds` in parallel. Deleted names leave the
        state; a failed name stays, a failed old goes back to `pending_deletes`. Returns
        (deleted names, errors by label)."""
        items = [(name, self.resources[name], False) for name in names]
        items += [(f"{s.urn.rsplit('::', 1)[-1]} (old id {s.id})", s, True) for s in olds]
        outcomes = self._map(lambda i: self._delete(items[i][1]), range(len(items)))
        deleted: list[str] = []
        errors: dict[str, Exception] = {}
        for i, outcome in outcomes.items():
            label, state, is_old = items[i]
            if isinstance(outcome, Exception):
                errors[label] = outcome
                if is_old:
                    self.pending_deletes.append(state)
            elif not is_old:
                self._set(label, None)
                deleted.append(label)
        return deleted, errors

    def up(self, desired: Mapping[str, Mapping[str, Any]], *, refresh: bool = False) -> UpOutcome:
        """Preview (after a refresh in the same run if `refresh`, as `pulumi up --refresh`), then
        apply: creates, updates and replacements (create before delete), then the delete phase:
        the old halves and resources no longer desired. An old half whose Delete fails stays in
        `pending_deletes` for the next `up` or `destroy`."""
        unknown = sorted(n for n, props in desired.items() if contains_unknown(props))
        if unknown:
            raise ValueError(f"unknown values are only allowed in preview: {', '.join(unknown)}")
        if refresh:
            self.refresh()
        else:
            self._ensure_configured()
        plan = self._plan(desired)
        if plan.failures:
            raise CheckFailedError(plan.failures)
        ops: dict[str, Op] = {}
        errors: dict[str, Exception] = {}
        main = {n: s for n, s in plan.steps.items() if s.op != "delete"}
        leftovers: list[ResourceState] = []
        for name, outcome in self._map(lambda n: self._apply_one(n, main[n]), main).items():
            if isinstance(outcome, Exception):
                errors[name] = outcome
            else:
                ops[name] = main[name].op
                leftovers.extend(outcome)
        removed = [n for n, s in plan.steps.items() if s.op == "delete"]
        olds, self.pending_deletes = [*self.pending_deletes, *leftovers], []
        deleted, delete_errors = self._delete_phase(removed, olds)
        ops.update(dict.fromkeys(deleted, "delete"))
        errors.update(delete_errors)
        result = UpOutcome(plan, ops)
        if errors:
            raise UpError(errors, result)
        return result

    def _refresh_one(self, name: str) -> RefreshOutcome:
        state = self.resources[name]
        id_, outputs, inputs = self.host.read(state.id, state.urn, state.outputs, state.inputs)
        if not id_:
            self._set(name, None)
            return RefreshOutcome(drift=True, deleted=True)
        self._set(
            name, ResourceState(id_, state.urn, state.inputs if inputs is None else inputs, outputs)
        )
        return RefreshOutcome(drift=outputs != state.outputs or id_ != state.id)

    def refresh(self) -> dict[str, RefreshOutcome]:
        """Read every resource: drop the ones gone, store live outputs (and returned inputs)."""
        self._ensure_configured()
        outcomes = self._map(self._refresh_one, list(self.resources))
        errors = {n: o for n, o in outcomes.items() if isinstance(o, Exception)}
        if errors:
            raise OperationError("refresh", errors)
        return {n: o for n, o in outcomes.items() if not isinstance(o, Exception)}

    def destroy(self) -> None:
        """Delete every resource (and pending delete) in parallel; failed ones stay in state."""
        self._ensure_configured()
        olds, self.pending_deletes = self.pending_deletes, []
        _, errors = self._delete_phase(list(self.resources), olds)
        if errors:
            raise OperationError("destroy", errors)

    def apply_step(self, desired: Mapping[str, Mapping[str, Any]]) -> UpOutcome:
        """`up(desired)`, then a fresh preview that must be empty: the "no perpetual diff" check
        (`AssertionError` naming the steps otherwise)."""
        result = self.up(desired)
        self.preview(desired).assert_empty()
        return result
