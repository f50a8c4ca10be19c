"""Document limits, checked from the static analysis of ``schema.cost`` BEFORE graphql-core
validates the document: a document that is too deep, too wide, too aliased or too costly
is refused in one linear pass, so validation (whose overlapping-fields rule is quadratic
in repeated fields) and execution never see it. The same checker then validates the
document through an LRU cache (a refused document is never validated).

The analysis of a document is cached by its text, operation name and the variables that
size its lists, so a repeated query costs one dictionary lookup.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema
from strawberry.schema.schema import validate_document

from schema.cost import AnalysisError, CostRules, OperationCost, OperationNotChosen, analyse


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    max_depth: int = 12
    max_aliases: int = 30
    max_cost: int = 1000
    """Points (see ``CostRules``); ``KARPOV_GRAPHQL_MAX_COST``."""
    max_fields: int = 5000
    """Field resolutions the operation can cause, lists multiplied out."""
    max_field_nodes: int = 1000
    """Field selections written in the document."""


class _Refused(Exception):
    def __init__(self, message: str, code: str, limit: str, **details: int) -> None:
        super().__init__(message)
        self.error = GraphQLError(message, extensions={"code": code, "limit": limit, **details})


def check(cost: OperationCost, limits: DocumentLimits) -> None:
    """Raise ``_Refused`` for the first limit ``cost`` exceeds."""
    if cost.shape.field_nodes > limits.max_field_nodes:
        raise _Refused(
            f"the document selects {cost.shape.field_nodes} fields; at most "
            f"{limits.max_field_nodes} are allowed",
            "GRAPHQL_VALIDATION_FAILED", "fieldNodes",
            actual=cost.shape.field_nodes, maximum=limits.max_field_nodes,
        )  # fmt: skip
    if cost.depth > limits.max_depth:
        raise _Refused(
            f"the operation exceeds the maximum operation depth of {limits.max_depth} "
            f"(it is {cost.depth} deep)",
            "GRAPHQL_VALIDATION_FAILED", "depth", actual=cost.depth, maximum=limits.max_depth,
        )  # fmt: skip
    if cost.aliases > limits.max_aliases:
        raise _Refused(
            f"the operation uses {cost.aliases} aliases; at most {limits.max_aliases} are "
            "allowed",
            "GRAPHQL_VALIDATION_FAILED", "aliases",
            actual=cost.aliases, maximum=limits.max_aliases,
        )  # fmt: skip
    if cost.fields > limits.max_fields:
        raise _Refused(
            f"the operation can resolve up to {cost.fields} fields; at most "
            f"{limits.max_fields} are allowed (ask for smaller pages)",
            "QUERY_TOO_COMPLEX", "fields", actual=cost.fields, maximum=limits.max_fields,
        )  # fmt: skip
    if cost.cost > limits.max_cost:
        raise _Refused(
            f"the operation costs up to {cost.cost} points; at most {limits.max_cost} are "
            "allowed (ask for smaller pages or fewer fields)",
            "QUERY_TOO_COMPLEX", "cost", actual=cost.cost, maximum=limits.max_cost,
        )  # fmt: skip


class _AnalysisCache:
    """A small LRU of analyses by (query, operation, list-sizing variables)."""

    def __init__(self, maxsize: int = 1024) -> None:
        self._items: OrderedDict[tuple[Any, ...], OperationCost | AnalysisError] = OrderedDict()
        self._maxsize = maxsize

    def get(self, key: tuple[Any, ...]) -> OperationCost | AnalysisError | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], value: OperationCost | AnalysisError) -> None:
        self._items[key] = value
        if len(self._items) > self._maxsize:
            self._items.popitem(last=False)


def _sizing(variables: Mapping[str, Any] | None) -> tuple[tuple[str, int], ...]:
    """The variables that can size a list: integers and list lengths."""
    if not variables:
        return ()
    sizes: list[tuple[str, int]] = []
    for name, value in variables.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            sizes.append((name, value))
        elif isinstance(value, list):
            sizes.append((name, -len(value) - 1))
    return tuple(sorted(sizes))


MAX_VALIDATION_ERRORS = 100
"""graphql-core's ``validate`` stops after this many errors."""


def name_the_error_limit(errors: list[GraphQLError]) -> list[GraphQLError]:
    """graphql-core ends a long list of validation errors with "Too many validation
    errors, error limit reached. Validation aborted.": say which limit instead."""
    if not errors or not errors[-1].message.startswith("Too many validation errors"):
        return errors
    named = GraphQLError(
        f"the document has more than {MAX_VALIDATION_ERRORS} validation errors; the first "
        f"{MAX_VALIDATION_ERRORS} are listed (fix them and send it again)",
        extensions={
            "code": "GRAPHQL_VALIDATION_FAILED", "limit": "validationErrors",
            "maximum": MAX_VALIDATION_ERRORS,
        },
    )  # fmt: skip
    return [*errors[:-1], named]


VALIDATIONS_CACHED = 1024


class OperationNotChosenError(GraphQLError):
    """The request error of several operations without ``operationName``: the view
    answers it 400 whatever the media type (GraphQL over HTTP; issue 12)."""


class DocumentChecker:
    """The document checks before execution, built once per schema: the analysis (cached
    by text, operation name and sizing variables), the limits, then graphql-core's
    validation through an LRU cache (a refused document is never validated)."""

    def __init__(self, rules: CostRules, limits: DocumentLimits) -> None:
        self._rules = rules
        self._limits = limits
        self._analyses = _AnalysisCache()
        self._validations: OrderedDict[tuple[Any, ...], list[GraphQLError]] = OrderedDict()

    def check(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        validation_rules: tuple[type[ASTValidationRule], ...],
    ) -> tuple[list[GraphQLError], OperationCost | None]:
        """The errors that refuse the document (none: it may run) and its analysis.
        ``operation_name`` is the name the client gave (several unnamed choices are an
        error, not a guess)."""
        key = (query, operation_name, _sizing(variables))
        found = self._analyses.get(key)
        if found is None:
            try:
                found = analyse(schema, document, self._rules, operation_name=operation_name,
                                variables=variables)  # fmt: skip
            except AnalysisError as error:
                found = error
            self._analyses.put(key, found)
        if isinstance(found, AnalysisError):
            refusal = OperationNotChosenError if isinstance(found, OperationNotChosen) else None
            refused = (refusal or GraphQLError)(str(found), extensions={"code": "BAD_REQUEST"})
            return [refused], None
        try:
            check(found, self._limits)
        except _Refused as refused:
            return [refused.error], None
        errors = self._validate(schema, query, document, validation_rules)
        return name_the_error_limit(errors), found

    def _validate(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        """graphql-core's validation, in an LRU by the document's text (perf, issue 18: a
        ``DocumentNode`` hashes its whole tree, a ``str`` its cached hash; the document
        is the text's parse, so the text decides the outcome)."""
        key = (schema, query, rules)
        found = self._validations.get(key)
        if found is not None:
            self._validations.move_to_end(key)
            return found
        found = validate_document(schema, document, rules)
        self._validations[key] = found
        if len(self._validations) > VALIDATIONS_CACHED:
            self._validations.popitem(last=False)
        return found
