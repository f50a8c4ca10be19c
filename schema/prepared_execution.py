"""perf (issue 18): graphql-core's ``execute`` for a query or mutation, with what its setup
derives from the document alone worked out once per document and operation.

Per request, graphql-core's ``execute`` checks the schema for ``@defer``/``@stream``,
goes through ``experimental_execute_incrementally`` to ``Executor.build`` (the schema's
validity, the operation looked for, the fragment maps built, the variables coerced), then
``execute_operation`` (the root type, the root fields collected, the incremental
executor's ``build_response``) and, when a resolver is asynchronous, three coroutines
wrapped around the root fields' (graphql-core's ``await_result`` twice and the planned
context's release of its ``async_helpers``). In the CPU of ``{ viewer { id email } }``
that setup was about 15 %.

Here, once per (document, operation name): the operation, the fragment definitions and
their details, the root type, whether the root fields run serially (a mutation) and, for
an operation without variables, the root fields collected (they depend on the document
alone, as ``execution_plan``'s sub-selections do). Once per schema: its validity and that
it has no ``@defer``/``@stream`` (``execute`` refuses such a schema). Per request: the
variables are coerced by graphql-core's ``get_variable_values`` (the same values and
errors), the planned executor is constructed as ``build`` constructs it, the root fields
are executed by its ``execute_fields`` (``execute_fields_serially`` for a mutation), a
``GraphQLError`` raised there is collected at the root as ``execute_operation`` collects
it, and the result is graphql-core's ``ExecutionResult(data, errors or None)`` (its
``build_response`` when incremental work or hooks exist). One coroutine settles an
asynchronous root, then the executor's ``async_helpers`` (a cycle through its own bound
methods) are dropped as the planned context drops them.

Everything else takes graphql-core's ``execute`` unchanged: subscriptions, documents with
``@defer``/``@stream`` or fragment variables, operations graphql-core would not find
(its errors), executor classes whose root path is not graphql-core's (or the planned
one), a schema graphql-core refuses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    validate_schema,
)
from graphql.execution.collect_fields import FragmentDetails, GroupedFieldSet, collect_fields
from graphql.execution.executor import (
    SELECTIONS_NESTED_TOO_DEEPLY,
    UNEXPECTED_MULTIPLE_PAYLOADS,
    default_field_resolver,
    default_type_resolver,
)
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.execution.values import VariableValues, get_variable_values

PREPARED_CACHED = 1024
"""(document, operation name) pairs kept (the oldest dropped), as many as parsed texts."""

MAX_COERCION_ERRORS = 50
"""graphql-core's default ``max_coercion_errors`` (``execute`` is called without one)."""

INCREMENTAL = frozenset({"defer", "stream"})

ROOT_PATH = (
    "build", "execute_collected_root_fields", "execute_root_grouped_field_set",
    "build_response", "finish", "get_incremental_work", "__init__",
)  # fmt: skip
"""The methods of graphql-core's root path this module replaces or calls around (with
``execute_operation``): a class of which one is not graphql-core's (see
``root_path_is_graphql_cores``) keeps graphql-core's ``execute``."""


class Prepared:
    """What ``Executor.build`` and ``execute_operation`` derive from one document and
    operation name."""

    __slots__ = (
        "fragment_definitions", "fragments", "grouped_field_set", "operation", "root_type",
        "serially",
    )  # fmt: skip

    def __init__(
        self, operation: OperationDefinitionNode,
        fragment_definitions: dict[str, FragmentDefinitionNode],
        fragments: dict[str, FragmentDetails], root_type: GraphQLObjectType,
        grouped_field_set: GroupedFieldSet | None,
    ) -> None:  # fmt: skip
        self.operation = operation
        self.fragment_definitions = fragment_definitions
        self.fragments = fragments
        self.root_type = root_type
        self.serially = operation.operation == OperationType.MUTATION
        self.grouped_field_set = grouped_field_set


def root_path_is_graphql_cores(executor_class: type[Any]) -> bool:
    """Whether every class of the executor's that defines a method of the root path is
    graphql-core's, except ``__init__`` (strawberry's and the planned context's, around
    graphql-core's) and ``execute_operation`` (the planned context's, which only drops the
    ``async_helpers`` after graphql-core's)."""
    if not issubclass(executor_class, IncrementalExecutor):
        return False
    planned = [k for k in executor_class.__mro__ if k.__dict__.get("releases_async_helpers")]
    for name in (*ROOT_PATH, "execute_operation"):
        for owner in executor_class.__mro__:
            if name not in owner.__dict__ or owner is object or owner in planned:
                continue
            if owner.__module__.startswith("graphql."):
                continue
            if name == "__init__" and owner.__module__ == "strawberry.schema.schema":
                continue
            return False
    return True


def _has_incremental_directive(document: DocumentNode) -> bool:
    pending: list[Any] = list(document.definitions)
    while pending:
        node = pending.pop()
        for directive in getattr(node, "directives", None) or ():
            if directive.name.value in INCREMENTAL:
                return True
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            pending.extend(selection_set.selections)
    return False


class PreparedExecution:
    """graphql-core's ``execute`` for one schema and executor class (see the module
    docstring); ``execute`` takes its arguments as graphql-core's does."""

    def __init__(self, schema: GraphQLSchema, executor_class: type[Any]) -> None:
        self._schema = schema
        self._executor_class = executor_class
        self._usable: bool | None = None  # the schema's checks, at the first request
        self._prepared: dict[tuple[int, str | None], tuple[DocumentNode, Prepared | None]] = {}

    def execute(
        self,
        document: DocumentNode,
        variable_values: dict[str, Any] | None,
        operation_name: str | None,
        context_value: Any,
        is_awaitable: Callable[[Any], TypeGuard[Awaitable[Any]]],
        **custom_args: Any,
    ) -> ExecutionResult | Awaitable[ExecutionResult]:
        key = (id(document), operation_name)
        found = self._prepared.get(key)
        if found is None or found[0] is not document:
            found = self._prepared[key] = (document, self._prepare(document, operation_name))
            if len(self._prepared) > PREPARED_CACHED:
                self._prepared.pop(next(iter(self._prepared)))
        prepared = found[1]
        if prepared is None:
            return execute(
                self._schema, document, variable_values=variable_values,
                operation_name=operation_name, context_value=context_value,
                executor_class=self._executor_class, is_awaitable=is_awaitable, **custom_args,
            )  # fmt: skip
        schema = self._schema
        operation = prepared.operation
        if operation.variable_definitions:
            coerced = get_variable_values(
                schema, operation.variable_definitions, variable_values or {},
                max_errors=MAX_COERCION_ERRORS, hide_suggestions=False,
            )  # fmt: skip
            if isinstance(coerced, list):
                return ExecutionResult(None, errors=coerced)
        else:
            coerced = VariableValues({}, {})  # what get_variable_values answers for none
        executor = self._executor_class(
            schema, {**prepared.fragment_definitions}, {**prepared.fragments}, None,
            context_value, operation, coerced, default_field_resolver, default_type_resolver,
            default_field_resolver, False, None, is_awaitable, None,
            hide_suggestions=False, abort_signal=None, hooks=None, **custom_args,
        )  # fmt: skip
        return _run(executor, prepared)

    def _prepare(self, document: DocumentNode, operation_name: str | None) -> Prepared | None:
        """What ``build`` and ``execute_operation`` derive from the document, or ``None``
        when graphql-core's ``execute`` must run it."""
        schema = self._schema
        if self._usable is None:
            self._usable = (
                not validate_schema(schema)
                and not schema.get_directive("defer")
                and not schema.get_directive("stream")
                and root_path_is_graphql_cores(self._executor_class)
            )
        if not self._usable or _has_incremental_directive(document):
            return None
        # ``Executor.build``'s search, as it is: the errors it answers are its own.
        operation: OperationDefinitionNode | None = None
        fragment_definitions: dict[str, FragmentDefinitionNode] = {}
        fragments: dict[str, FragmentDetails] = {}
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                if operation_name is None:
                    if operation:
                        return None
                    operation = definition
                elif definition.name and definition.name.value == operation_name:
                    operation = definition
            elif isinstance(definition, FragmentDefinitionNode):
                if definition.variable_definitions:
                    return None  # fragment variables: graphql-core's signatures
                fragment_definitions[definition.name.value] = definition
                fragments[definition.name.value] = FragmentDetails(definition, None)
        if operation is None or operation.operation not in (
            OperationType.QUERY,
            OperationType.MUTATION,
        ):
            return None
        root_type = schema.get_root_type(operation.operation)
        if root_type is None:
            return None
        grouped_field_set = None
        if not operation.variable_definitions:
            try:
                collected = collect_fields(
                    schema, fragments, VariableValues({}, {}), root_type, operation, False
                )
            except (GraphQLError, RecursionError):
                return None  # graphql-core's path answers it
            if collected.new_defer_usages:
                return None
            grouped_field_set = collected.grouped_field_set
        return Prepared(operation, fragment_definitions, fragments, root_type, grouped_field_set)


def _run(executor: Any, prepared: Prepared) -> ExecutionResult | Awaitable[ExecutionResult]:
    """``execute_operation`` without an abort signal, for a prepared operation."""
    try:
        grouped_field_set = prepared.grouped_field_set
        new_defer_usages: Any = None
        if grouped_field_set is None:
            try:
                collected = collect_fields(
                    executor.schema, executor.fragments, executor.variable_values,
                    prepared.root_type, prepared.operation, executor.hide_suggestions,
                )  # fmt: skip
            except RecursionError:
                collected = None
            # Outside the block above, as graphql-core raises it (no kept context).
            if collected is None:
                raise GraphQLError(SELECTIONS_NESTED_TOO_DEEPLY, prepared.operation)
            grouped_field_set, new_defer_usages, _forbidden = collected
        if new_defer_usages:
            result = executor.execute_collected_root_fields(
                prepared.root_type, None, grouped_field_set, prepared.serially, new_defer_usages
            )
        else:
            result = (
                executor.execute_fields_serially if prepared.serially else executor.execute_fields
            )(prepared.root_type, None, None, grouped_field_set, None)
        if type(result) is not dict and executor.is_awaitable(result):
            return _settled(executor, result)
    except GraphQLError as error:
        executor.collected_errors.add(error, None)
        result = None
    except BaseException:
        executor.async_helpers = None
        raise
    return _response(executor, result)


async def _settled(executor: Any, result: Awaitable[Any]) -> ExecutionResult:
    """graphql-core's ``await_result`` of ``execute_operation`` (no abort signal)."""
    try:
        data = await result
    except GraphQLError as error:
        executor.collected_errors.add(error, None)
        data = None
    except Exception:
        executor.async_helpers = None
        await executor.cancel_incremental_work()
        executor.run_async_work_finished_hook()
        raise
    return _response(executor, data)


def _response(executor: Any, data: dict[str, Any] | None) -> ExecutionResult:
    """``build_response``: with no incremental work and no hooks, the base executor's
    result; then the cycle through ``async_helpers`` is broken."""
    executor.async_helpers = None
    if executor.tasks or executor.streams or executor.hooks is not None:
        response = executor.build_response(data)
        if not isinstance(response, ExecutionResult):
            raise GraphQLError(UNEXPECTED_MULTIPLE_PAYLOADS)
        return response
    return ExecutionResult(data, executor.collected_errors.errors or None)
