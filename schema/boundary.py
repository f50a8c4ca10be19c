"""The input boundary on the GraphQL edge (``domain.boundary`` holds the rules): the
variables and the document's string literals are valid text, and ``DateTime`` values carry
a zone and lie in range. Runs before the document limits and validation."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from graphql import GraphQLError, StringValueNode, visit
from graphql.language import Visitor
from strawberry.schema.types.base_scalars import DateTimeDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition

from domain.boundary import check_json, parse_instant, text_problem
from domain.errors import DomainError


def _parse_datetime(value: str) -> datetime:
    try:
        return parse_instant(value, "DateTime")
    except DomainError as error:
        raise ValueError(error.message.removeprefix("DateTime ")) from None


DATETIME = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url=DateTimeDefinition.specified_by_url,
    serialize=DateTimeDefinition.serialize,
    parse_value=wrap_parser(_parse_datetime, "DateTime"),
    parse_literal=None,
    origin=datetime,
)
"""``DateTime`` by the boundary's rules (the same name and description: the SDL is
unchanged). A time without a zone or out of range is a variable or literal error."""

SCALAR_OVERRIDES: dict[object, Any] = {datetime: DATETIME}


class _StringLiterals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.problem: str | None = None

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        problem = text_problem(node.value)
        if problem is not None:
            self.problem = f"a string literal {problem}"
            return self.BREAK
        return None


def _problem(query: str | None, document: Any, variables: dict[str, Any] | None) -> str | None:
    if variables:
        try:
            check_json(variables, "variables")
        except DomainError as error:
            return error.message
    if query is None:
        return None
    problem = text_problem(query)
    if problem is not None:
        return f"the document {problem}"
    if "\\u" in query and document is not None:
        # An escape can spell NUL inside a literal; only then is the document walked.
        literals = _StringLiterals()
        visit(document, literals)
        return literals.problem
    return None


def boundary_errors(
    query: str | None, document: Any, variables: dict[str, Any] | None
) -> list[GraphQLError]:
    """The request's input refused at the boundary (an empty list: it passes)."""
    problem = _problem(query, document, variables)
    if problem is None:
        return []
    return [GraphQLError(problem, extensions={"code": "INVALID_INPUT"})]


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def strip_suggestions(errors: list[GraphQLError]) -> None:
    """Production: no suggestion of any kind in an error (fields, types, arguments, enum
    values, input fields), so error messages do not map the schema for a caller who may
    not introspect it. Strawberry's own switch removes only field suggestions."""
    for error in errors:
        if "Did you mean" in error.message:
            error.message = _SUGGESTION.sub("", error.message)
