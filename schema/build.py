"""Builds the strawberry ``Schema`` once per process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.boundary import SCALAR_OVERRIDES, InputBoundaryExtension, NoSuggestionsExtension
from schema.costs import COST_RULES
from schema.describe import describe_conventional
from schema.extensions import MAX_TOKENS, DomainErrorExtension, name_request_error
from schema.gate_extension import RequestGateExtension
from schema.limits import DocumentLimits, make_limits_extension
from schema.root import Mutation, Query
from schema.types.accounts import Session, User
from schema.types.admin import AuditEvent
from schema.types.billing import SCALAR_MAP
from schema.types.music import MUSIC_NODE_TYPES  # music (issue 13)
from schema.types.oauth import OAuthIdentity

SDL_PATH = Path(__file__).with_name("schema.graphql")


class KarpovSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Errors are mapped, masked and (when unexpected) logged by DomainErrorExtension;
        # strawberry's default would log every expected domain error as a failure. Parse
        # errors (syntax, token limit) bypass the extension's operation hook and are only
        # seen here, so they get their code here.
        for error in errors:
            original = error.original_error
            if original is None or (isinstance(original, GraphQLError) and not error.path):
                name_request_error(error)


def build_schema(
    *,
    introspection: bool = True,
    field_suggestions: bool = True,
    query: type | None = None,
    limits: DocumentLimits | None = None,
    max_cost: int = 1000,
) -> KarpovSchema:
    """``query`` lets a test application add root fields (e.g. a metered test operation)."""
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        lambda: ParserCache(maxsize=1024),
        InputBoundaryExtension,  # harden: variables and literals are valid text, first
        # Limits, then validation (cached): a document too deep, wide or costly is refused
        # before graphql-core's validation (quadratic in repeated fields) sees it.
        make_limits_extension(COST_RULES, limits or DocumentLimits(max_cost=max_cost)),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        DomainErrorExtension,
        RequestGateExtension,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    if not field_suggestions:
        extensions.append(NoSuggestionsExtension)  # harden: none of any kind
    built = KarpovSchema(
        query=query or Query,
        mutation=Mutation,
        types=[User, Session, AuditEvent, OAuthIdentity, *MUSIC_NODE_TYPES],
        extensions=extensions,
        # sort_schema=True would rebuild the enum types without strawberry's serializer
        # (enum outputs then fail), so the SDL keeps the order of the code instead.
        config=StrawberryConfig(
            disable_field_suggestions=not field_suggestions,
            scalar_map=SCALAR_MAP,  # billing (issue 14): BigInt
        ),
        scalar_overrides=SCALAR_OVERRIDES,  # harden: DateTime by the input boundary's rules
    )
    describe_conventional(built._schema)  # issue 11: connections', payloads', inputs' texts
    return built


def export_sdl(schema: Any | None = None) -> str:
    return (schema or build_schema()).as_str() + "\n"
