"""The static document analysis: linear in the document, upper bounds that hold."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import strawberry
from graphql import get_introspection_query, parse

from schema.cost import AnalysisError, CostRules, FieldCost, OperationCost, analyse
from schema.limits import DocumentLimits, _Refused, check


@strawberry.type
class Song:
    title: str
    url: str


@strawberry.type
class Album:
    title: str
    songs: list[Song]


@strawberry.type
class Query:
    @strawberry.field
    def songs(self, first: int = 10) -> list[Song]:
        return []

    @strawberry.field
    def album(self) -> Album:
        return Album(title="", songs=[])

    @strawberry.field
    def many(self, ids: list[strawberry.ID]) -> list[Song]:
        return []

    @strawberry.field
    def paged(self, first: int | None = None, last: int | None = None) -> list[Song]:
        return []


@strawberry.type
class Mutation:
    @strawberry.mutation
    def login(self) -> bool:
        return True


SCHEMA = strawberry.Schema(query=Query, mutation=Mutation)._schema
RULES = CostRules(
    fields={
        "Song.url": FieldCost(metered="Song.url"),
        "Mutation.login": FieldCost(cost=50),
        "Album.songs": FieldCost(max_items=30),
    }
)


def cost_of(
    query: str, *, operation_name: str | None = None, variables: Mapping[str, Any] | None = None
) -> OperationCost:
    return analyse(SCHEMA, parse(query), RULES, operation_name=operation_name, variables=variables)


def test_objects_cost_a_point_and_scalars_nothing() -> None:
    result = cost_of("{ album { title } }")
    assert (result.cost, result.fields, result.depth) == (1, 2, 2)


def test_a_page_argument_multiplies_the_selection() -> None:
    result = cost_of("{ songs(first: 20) { title url } }")
    assert result.fields == 1 + 20 * 2
    assert result.cost == 1
    assert result.metered == {"Song.url": 20}


def test_variables_and_their_defaults_size_lists() -> None:
    query = "query Q($n: Int = 7) { songs(first: $n) { url } }"
    assert cost_of(query).metered == {"Song.url": 7}
    assert cost_of(query, variables={"n": 3}).metered == {"Song.url": 3}


def test_list_sizes_are_capped_and_declared_maximums_apply() -> None:
    assert cost_of("{ songs(first: 100000) { url } }").metered == {"Song.url": 100}
    assert cost_of("{ album { songs { url } } }").metered == {"Song.url": 30}
    assert cost_of('{ many(ids: ["a", "b", "c"]) { url } }').metered == {"Song.url": 3}


def test_page_arguments_without_defaults_count_as_the_largest_page() -> None:
    # A keyset connection's first/last default to null (the server picks the page): the
    # bound is the largest page, not the unlisted-list guess.
    assert cost_of("{ paged { url } }").metered == {"Song.url": 100}
    assert cost_of("{ paged(last: 4) { url } }").metered == {"Song.url": 4}


def test_aliases_resolve_separately() -> None:
    result = cost_of("mutation { a: login b: login c: login }")
    assert result.cost == 150
    assert result.aliases == 3


def test_fragments_count_at_every_spread() -> None:
    query = """
      { songs(first: 2) { ...S } a: album { songs { ...S } } }
      fragment S on Song { u1: url u2: url }
    """
    result = cost_of(query)
    assert result.metered == {"Song.url": 2 * 2 + 30 * 2}
    assert result.aliases == 5  # "a:" once, and two per spread (not per list item)


def exponential(levels: int) -> str:
    fragments = [f"fragment F{i} on Song {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Song {{ title }}")
    return "{ songs(first: 1) { ...F0 } }\n" + "\n".join(fragments)


def test_nested_fragments_are_analysed_once_each() -> None:
    # 2^40 titles described in a few kilobytes: expanding it would never finish.
    result = cost_of(exponential(40))
    assert result.fields == 1 + 2**40


def test_a_fragment_cycle_is_an_error_not_a_hang() -> None:
    query = "{ songs { ...A } } fragment A on Song { ...B } fragment B on Song { ...A }"
    with pytest.raises(AnalysisError, match="spreads itself"):
        cost_of(query)


def test_several_operations_need_a_name() -> None:
    query = "query A { album { title } } query B { songs { title } }"
    with pytest.raises(AnalysisError, match="operationName"):
        cost_of(query)
    assert cost_of(query, operation_name="B").fields == 1 + 10
    with pytest.raises(AnalysisError, match="no operation named"):
        cost_of(query, operation_name="C")


def test_introspection_passes_the_default_limits() -> None:
    check(cost_of(get_introspection_query()), DocumentLimits())


@pytest.mark.parametrize(
    ("query", "limit"),
    [
        ("{ " + "album { title } " * 1200 + "}", "fieldNodes"),
        (exponential(20), "fields"),
        ("mutation { " + " ".join(f"a{i}: login" for i in range(31)) + " }", "aliases"),
        ("mutation { " + " ".join(f"a{i}: login" for i in range(21)) + " }", "cost"),
    ],
)
def test_limits_name_what_was_exceeded(query: str, limit: str) -> None:
    with pytest.raises(_Refused) as refused:
        check(cost_of(query), DocumentLimits())
    assert refused.value.error.extensions["limit"] == limit  # type: ignore[index]
    assert str(refused.value.error.extensions["maximum"]) in refused.value.error.message  # type: ignore[index]
