"""Builds the strawberry ``Schema`` once per process."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from schema.boundary import SCALAR_OVERRIDES
from schema.costs import COST_RULES
from schema.describe import describe_conventional
from schema.execution import Executor
from schema.limits import DocumentChecker, DocumentLimits
from schema.root import Mutation, Query
from schema.types.accounts import Session, User
from schema.types.admin import AuditEvent
from schema.types.billing import SCALAR_MAP
from schema.types.music import MUSIC_NODE_TYPES  # music (issue 13)
from schema.types.oauth import OAuthIdentity

SDL_PATH = Path(__file__).with_name("schema.graphql")


class KarpovSchema(strawberry.Schema):
    """perf (issue 18): operations run through ``schema.execution.Executor`` (the same
    steps as strawberry's extension runner, as plain calls), set by ``build_schema``."""

    executor: Executor

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        return await self.executor.execute(
            query, variable_values, context_value, operation_name, allowed_operation_types,
            operation_extensions,
        )  # fmt: skip


def build_schema(
    *,
    introspection: bool = True,
    field_suggestions: bool = True,
    query: type | None = None,
    limits: DocumentLimits | None = None,
    max_cost: int = 1000,
) -> KarpovSchema:
    """``query`` lets a test application add root fields (e.g. a metered test operation)."""
    built = KarpovSchema(
        query=query or Query,
        mutation=Mutation,
        types=[User, Session, AuditEvent, OAuthIdentity, *MUSIC_NODE_TYPES],
        # sort_schema=True would rebuild the enum types without strawberry's serializer
        # (enum outputs then fail), so the SDL keeps the order of the code instead.
        config=StrawberryConfig(
            disable_field_suggestions=not field_suggestions,
            scalar_map=SCALAR_MAP,  # billing (issue 14): BigInt
        ),
        scalar_overrides=SCALAR_OVERRIDES,  # harden: DateTime by the input boundary's rules
    )
    describe_conventional(built._schema)  # issue 11: connections', payloads', inputs' texts
    built.executor = Executor(
        built._schema,
        # Limits, then validation (cached): a document too deep, wide or costly is refused
        # before graphql-core's validation (quadratic in repeated fields) sees it.
        DocumentChecker(COST_RULES, limits or DocumentLimits(max_cost=max_cost)),
        introspection=introspection, field_suggestions=field_suggestions,
        execution_context_class=built.execution_context_class,
        context_kwargs=built._get_custom_context_kwargs,
    )  # fmt: skip
    return built


def export_sdl(schema: Any | None = None) -> str:
    return (schema or build_schema()).as_str() + "\n"
