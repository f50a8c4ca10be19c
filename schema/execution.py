"""One GraphQL operation from its text to its result, in one straight function.

perf (issue 18): strawberry's ``Schema.execute`` runs each request through an extension
runner (a context manager per hook per extension: 24 for our six), which cost about as
much CPU as executing a small query. The same steps run here as plain calls, in the same
order and with the same outcomes:

1. parse (LRU-cached by text; at most ``MAX_TOKENS`` tokens);
2. pick the operation (``CannotGetOperationTypeError``, ``InvalidOperationTypeError`` for
   the view to answer as transport errors, as strawberry raises them);
3. the input boundary (``schema.boundary``), then the document limits and graphql-core's
   validation (``schema.limits``, cached by the document's text);
4. the request gate (``schema.gate_extension``): scopes and one quota reservation before
   any resolver runs (what to reserve worked out once per document and operation);
5. graphql-core's execution with strawberry's execution context class, planned
   (``schema.execution_plan``): plain leaf, object, union and list fields read without
   a resolve info, built-in scalars' own values written as they are, strawberry
   resolvers called directly on arguments converted once per field node, fields planned
   once per grouped field set, sub-selections collected once per document, strawberry's
   union resolution and ``is_type_of`` for non-generic types without their walks;
   everything else graphql-core's; the executor built and its root run with what
   graphql-core's setup derives from the document worked out once per document and
   operation (``schema.prepared_execution``);
6. the gate's settlement (units that did not resolve go back; ``extensions.cost``);
7. every error named (``name_request_error``), mapped and masked (``map_error``), and in
   production stripped of suggestions.

The view (``gateway.graphql_view``) parses a GET's query string once per URL and writes
the body with orjson where its bytes are ``json.dumps``'s. Together (issue 18, in-process
``bench.profile``, medians on the shared VM): see docs/scaling.md, "GraphQL execution".

A failure of the pipeline itself (not of a resolver) is masked as ``INTERNAL`` and logged
with the request id, like a resolver's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import lru_cache
from typing import Any, TypeGuard, cast

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.exceptions import MissingQueryError
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_operation_type

from schema.boundary import boundary_errors, strip_suggestions
from schema.execution_plan import planned_context_class
from schema.extensions import MAX_TOKENS, map_error, name_request_error
from schema.gate_extension import GatedRun
from schema.limits import DocumentChecker
from schema.prepared_execution import PreparedExecution

DEFAULT_ALLOWED = (OperationType.QUERY, OperationType.MUTATION)

OPERATIONS_CACHED = 1024
"""(document, operation name) pairs whose operation is kept, as many as parsed texts."""

_parse = lru_cache(maxsize=1024)(lambda query: parse(query, max_tokens=MAX_TOKENS))
"""Documents by text (a DocumentNode is never mutated, so one may serve every request;
the validation cache is keyed by it)."""


_is_awaitable = cast(Callable[[Any], TypeGuard[Awaitable[Any]]], optimized_is_awaitable)
"""Strawberry's check (faster than ``inspect.isawaitable``), typed as graphql-core wants."""


def _first_operation_name(document: DocumentNode) -> str | None:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            return definition.name.value if definition.name else None
    return None


class Executor:
    """Runs operations against one built schema (see the module docstring)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        checker: DocumentChecker,
        *,
        introspection: bool,
        field_suggestions: bool,
        execution_context_class: type[Any],
        context_kwargs: Callable[[dict[str, Any] | None], dict[str, Any]],
    ) -> None:
        self._schema = schema
        self._checker = checker
        rules: tuple[type[ASTValidationRule], ...] = tuple(specified_rules)
        if not introspection:
            rules += (NoSchemaIntrospectionCustomRule,)
        self._rules = rules
        self._suggestions = field_suggestions
        planned = planned_context_class(execution_context_class)
        self._prepared = PreparedExecution(schema, planned)
        self._context_kwargs = context_kwargs
        self._operations: dict[
            tuple[int, str | None], tuple[DocumentNode, str | None, OperationType]
        ] = {}

    async def execute(
        self,
        query: str | None,
        variables: dict[str, Any] | None,
        context: Any,
        operation_name: str | None,
        allowed: Iterable[OperationType] | None,
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult:
        if not query:
            raise MissingQueryError
        request_id = getattr(context, "request_id", None)
        try:
            document = _parse(query)
            chosen, operation_type = self._operation(document, operation_name)
            if operation_type not in (DEFAULT_ALLOWED if allowed is None else allowed):
                raise InvalidOperationTypeError(operation_type)
            errors = boundary_errors(query, document, variables)
            analysis = None
            if not errors:
                errors, analysis = self._checker.check(
                    self._schema, query, document, operation_name, variables, self._rules
                )
            if errors:
                return self._answer(None, errors, request_id)
            gated = GatedRun()
            refusal = await gated.enter(context, document, chosen, analysis)
            if refusal is not None:
                return self._answer(None, [refusal], request_id)
            outcome = self._prepared.execute(
                document, variables, chosen, context, _is_awaitable,
                **self._context_kwargs(operation_extensions),
            )  # fmt: skip
            result = await outcome if isinstance(outcome, Awaitable) else outcome
            extensions = await gated.settle(result.errors)
            return self._answer(result.data, result.errors, request_id, extensions)
        except (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError):
            raise  # transport errors: the view answers them
        except GraphQLError as error:  # a request error (e.g. the document did not parse)
            return self._answer(None, [error], request_id)
        except Exception as error:  # the pipeline itself failed: masked and logged
            wrapped = GraphQLError(str(error), original_error=error)
            return self._answer(None, [wrapped], request_id)

    def _operation(
        self, document: DocumentNode, operation_name: str | None
    ) -> tuple[str | None, OperationType]:
        """The operation's name to execute (the first operation's without one) and its
        type, kept per document and name (perf, issue 18: a walk and two enum calls per
        request); a document without it raises (not kept) as strawberry raises."""
        key = (id(document), operation_name)
        found = self._operations.get(key)
        if found is not None and found[0] is document:
            return found[1], found[2]
        chosen = operation_name if operation_name is not None else _first_operation_name(document)
        try:
            operation_type = get_operation_type(document, chosen)
        except RuntimeError as error:
            raise CannotGetOperationTypeError(operation_name) from error
        # The entry holds the document alive, so its id stays its own.
        self._operations[key] = (document, chosen, operation_type)
        if len(self._operations) > OPERATIONS_CACHED:
            self._operations.pop(next(iter(self._operations)))
        return chosen, operation_type

    def _answer(
        self,
        data: dict[str, Any] | None,
        errors: list[GraphQLError] | None,
        request_id: str | None,
        extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        if errors:
            errors = [map_error(_named(error), request_id) for error in errors]
            if not self._suggestions:
                strip_suggestions(errors)
        return ExecutionResult(data=data, errors=errors or None, extensions=extensions or {})


def _named(error: GraphQLError) -> GraphQLError:
    """Request errors (parse, validation, coercion: no resolver path) get their code."""
    original = error.original_error
    if original is None or (isinstance(original, GraphQLError) and not error.path):
        name_request_error(error)
    return error
