"""The request gate on the GraphQL edge: once per operation, before any resolver runs,
the root fields are checked against the caller's scopes and admitted by the quota gate
in one reservation; afterwards each metered field that failed gets its units back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from domain.errors import DomainError, RateLimited
from domain.principal import AuthMethod
from domain.quota.access import Operation
from domain.quota.gate import LimitState
from domain.quota.headers import limit_headers
from domain.quota.metering import metering_of
from resolvers.context import Context


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


class RequestGateExtension(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        ctx = execution.context
        document = execution.graphql_document
        if not isinstance(ctx, Context) or document is None:
            yield
            return
        operation: OperationDefinitionNode | None = None
        fragments: dict[str, FragmentDefinitionNode] = {}
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
            elif isinstance(definition, OperationDefinitionNode) and (
                execution.operation_name is None
                or (definition.name and definition.name.value == execution.operation_name)
            ):
                operation = operation or definition
        if operation is None or operation.operation is OperationType.SUBSCRIPTION:
            yield
            return
        mutation = operation.operation is OperationType.MUTATION
        fields = [
            (f.alias.value if f.alias else f.name.value, Operation(f.name.value, mutation))
            for f in _root_fields(operation.selection_set, fragments)
            if not f.name.value.startswith("__")
        ]
        if ctx.principal.method is not AuthMethod.API_KEY and not any(
            metering_of(op.field) for _, op in fields
        ):
            yield
            return
        started = ctx.services.clock.now()  # the recorder's clock (latency)
        gate = ctx.services.gate
        try:
            admission = await gate.enter(ctx.principal, ctx.api_key, [op for _, op in fields])
        except DomainError as error:
            if isinstance(error, RateLimited):
                _set_headers(ctx, error.states, error.retry_after)
            execution.result = ExecutionResult(
                data=None, errors=[GraphQLError(error.message, original_error=error)]
            )
            yield
            return
        ctx.admission = admission
        if admission is not None:
            _set_headers(ctx, admission.states, None)
        yield
        if admission is None or not admission.metered:
            return
        result = execution.result
        failed = {error.path[0] for error in (getattr(result, "errors", None) or []) if error.path}
        outcomes = [
            (metered, key not in failed)
            for key, op in fields
            if (metered := metering_of(op.field)) is not None
        ]
        await gate.finish(admission, outcomes, started)
