"""The request gate on the GraphQL edge: once per operation, before any resolver runs,
the root fields are checked against the caller's scopes and admitted by the quota gate
in one reservation; afterwards each metered field that failed gets its units back."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

from domain.errors import DomainError, RateLimited
from domain.principal import AuthMethod
from domain.quota.access import Operation
from domain.quota.gate import LimitKind, LimitState
from domain.quota.headers import limit_headers
from domain.quota.metering import Meter, Metered, metering_of
from domain.quota.service import Admission
from resolvers.context import Context
from schema.cost import FieldCost, OperationCost
from schema.costs import COST_RULES


def _root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _root_fields(fragment.selection_set, fragments)


def _set_headers(ctx: Context, states: tuple[LimitState, ...], retry_after: int | None) -> None:
    if ctx.response_headers is None:
        return
    refused = retry_after is not None
    for name, value in limit_headers(states, ctx.services.clock.now().timestamp(), refused=refused):
        ctx.response_headers[name] = value
    if retry_after is not None:
        ctx.response_headers["Retry-After"] = str(retry_after)


def _operation(
    document: DocumentNode, operation_name: str | None
) -> tuple[OperationDefinitionNode | None, dict[str, FragmentDefinitionNode]]:
    operation: OperationDefinitionNode | None = None
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments[definition.name.value] = definition
        elif isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        ):
            operation = operation or definition
    return operation, fragments


class GatedRun:
    """One operation through the request gate: ``enter`` reserves the document's upper
    bound of metered units before execution (or answers the refusal), ``settle`` refunds
    what did not resolve and returns ``extensions.cost {requested, actual, remaining}``."""

    __slots__ = ("_admission", "_by_name", "_ctx", "_requested", "_reserved", "_started")

    def __init__(self) -> None:
        self._admission: Admission | None = None

    async def enter(
        self,
        ctx: object,
        document: DocumentNode,
        operation_name: str | None,
        analysis: OperationCost | None,
    ) -> GraphQLError | None:
        """``None`` when the operation may run; else the error that refuses it."""
        if not isinstance(ctx, Context):
            return None
        plan = _plan(document, operation_name, analysis)
        if plan is None:
            return None
        operations, by_name, bound, reserved, requests = plan
        if ctx.principal.method is not AuthMethod.API_KEY and not reserved:
            return None
        started = ctx.services.clock.now()  # the recorder's clock (latency)
        try:
            admission = await ctx.services.gate.enter(
                ctx.principal, ctx.api_key, list(operations),
                metered=list(reserved), requests=max(1, requests) if reserved else 0,
            )  # fmt: skip
        except DomainError as error:
            if isinstance(error, RateLimited):
                _set_headers(ctx, error.states, error.retry_after)
            return GraphQLError(error.message, original_error=error)
        ctx.admission = admission
        if admission is not None:
            _set_headers(ctx, admission.states, None)
            if admission.metered:
                ctx.meter = Meter(bound)
                self._admission, self._ctx, self._started = admission, ctx, started
                self._by_name, self._reserved = by_name, reserved
        return None

    async def settle(self, errors: list[GraphQLError] | None) -> dict[str, Any]:
        """After execution: the extensions to answer (``cost``, when units were metered)."""
        admission = self._admission
        if admission is None:
            return {}
        ctx = self._ctx
        failed = {error.path[0] for error in errors or () if error.path}
        outcomes = [(metered, key not in failed) for key, metered in self._by_name]
        if ctx.meter is not None:
            outcomes += ctx.meter.calls
        requested = sum(m.weight for m in self._reserved)
        actual = await ctx.services.gate.settle(admission, outcomes, self._started, requested)
        remaining = _units_left(admission.states, requested - actual)
        return {"cost": {"requested": requested, "actual": actual, "remaining": remaining}}


_Plan = tuple[tuple[Operation, ...], list[tuple[str, Metered]], dict[str, int], list[Metered], int]
_PLANS: OrderedDict[tuple[int, str | None, int], tuple[object, object, _Plan | None]] = (
    OrderedDict()
)
PLANS_CACHED = 1024


def _plan(
    document: DocumentNode, operation_name: str | None, analysis: OperationCost | None
) -> _Plan | None:
    """What ``GatedRun.enter`` asks the gate for, by document, operation and analysis
    (perf, issue 18: a function of them, worked out once; by identity, the entry holding
    both alive): the root operations, the root fields metered by name, the metered bound
    by coordinate, the reservation and the request count. ``None``: nothing to gate."""
    key = (id(document), operation_name, id(analysis))
    found = _PLANS.get(key)
    if found is not None:
        _PLANS.move_to_end(key)
        return found[2]
    plan = _work_out(document, operation_name, analysis)
    _PLANS[key] = (document, analysis, plan)
    if len(_PLANS) > PLANS_CACHED:
        _PLANS.popitem(last=False)
    return plan


def _work_out(
    document: DocumentNode, operation_name: str | None, analysis: OperationCost | None
) -> _Plan | None:
    operation, fragments = _operation(document, operation_name)
    if operation is None or operation.operation is OperationType.SUBSCRIPTION:
        return None
    mutation = operation.operation is OperationType.MUTATION
    fields = [
        (f.alias.value if f.alias else f.name.value, Operation(f.name.value, mutation))
        for f in _root_fields(operation.selection_set, fragments)
        if not f.name.value.startswith("__")
    ]
    # What the document can resolve of each metered coordinate, at most (the static
    # analysis, list sizes from first/page sizes) ...
    root_type = "Mutation" if mutation else "Query"
    bound = {
        coordinate: count
        for coordinate, count in (analysis.metered.items() if analysis else ())
        if count > 0 and metering_of(coordinate) is not None
    }
    # ... and root fields metered by name without a cost rule: one each, charged
    # unless the field failed.
    by_name = [
        (key, metered)
        for key, op in fields
        if (metered := metering_of(op.field)) is not None
        and (COST_RULES.of(root_type, op.field) or _NO_RULE).metered is None
    ]
    reserved = [m for _, m in by_name] + [
        m for coordinate, count in bound.items()
        for m in [metering_of(coordinate)] * count if m is not None
    ]  # fmt: skip
    requests = len(by_name) + sum(
        1 for _, op in fields if (COST_RULES.of(root_type, op.field) or _NO_RULE).metered
    )
    return tuple(op for _, op in fields), by_name, bound, reserved, requests


_NO_RULE = FieldCost()


def _units_left(states: tuple[LimitState, ...], refunded: int) -> int | None:
    """The plan units left after this request (the tighter of the day and the month);
    ``None`` on a plan without unit limits."""
    left = [
        s.remaining + refunded
        for s in states
        if s.limit.kind in (LimitKind.PLAN_DAILY, LimitKind.PLAN_MONTHLY)
    ]
    return min(left) if left else None
