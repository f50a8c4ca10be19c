"""``schema.execution_plan``: the planned executor answers exactly what graphql-core's
standard path answers (data, errors with their messages, paths and locations), for plain
leaf fields, errors inside them, null propagation, abstract types, fragments, aliases,
``@skip``/``@include`` with variables, async resolvers, introspection and documents it
leaves to the standard path; and its caches serve the next request the same."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from datetime import date
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeGuard, TypeVar, cast

import pytest
import strawberry
from graphql import ExecutionResult, execute, parse
from graphql.pyutils import Undefined
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.permission import BasePermission
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.execution_plan import (
    convertible,
    field_plan,
    own_classes,
    plain_leaf,
    planned_context_class,
    resolver_field,
    union_members,
)
from schema.prepared_execution import PreparedExecution, root_path_is_graphql_cores

T = TypeVar("T")


@strawberry.enum
class Mood(Enum):
    CALM = "calm"
    LOUD = "loud"


@strawberry.type
class Tune:
    title: str
    rating: int | None
    mood: Mood
    _broken: bool = strawberry.field(default=False, name="brokenFlag")

    @strawberry.field
    def shout(self) -> str:
        return self.title.upper()

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return self.title + " later"


class BrokenTune:
    """A source whose attributes fail or lie: the errors a plain field can meet."""

    def __init__(self, title: Any, rating: Any = 1, mood: Any = Mood.CALM) -> None:
        self._title, self.rating, self.mood, self._broken = title, rating, mood, True

    @property
    def title(self) -> Any:
        if isinstance(self._title, Exception):
            raise self._title
        return self._title


@strawberry.type
class Band:
    name: str


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Person(Named):
    age: int


Item = Annotated[Tune | Band, strawberry.union("Item")]


@strawberry.type
class Shelf:
    """Plain object and list fields (no resolvers), filled with good and bad values."""

    tune: Tune
    maybe_tune: Tune | None
    tunes: list[Tune]
    maybe_tunes: list[Tune | None] | None
    person: Person
    people: list[Person]
    thing: Item | None = None
    things: list[Item] = strawberry.field(default_factory=list)
    maybe_things: list[Item | None] | None = None


def _shelf(kind: str) -> Shelf:
    good = Tune(title="g", rating=1, mood=Mood.CALM)
    person = Person(name="p", age=3)
    values: dict[str, Any] = {
        "tune": good, "maybe_tune": good, "tunes": [good, good], "maybe_tunes": [good],
        "person": person, "people": [person],
        "thing": Band(name="b"), "things": [good, Band(name="b")], "maybe_things": [good],
    }  # fmt: skip
    changes: dict[str, dict[str, Any]] = {
        "good": {},
        "nulls": {"tune": None, "maybe_tune": None, "tunes": [good, None], "maybe_tunes": None},
        "null-items": {"maybe_tunes": [None, good, None]},
        "errors": {
            "tune": ValueError("no tune"),
            "maybe_tune": BrokenTune(None),
            "tunes": [good, ValueError("no item")],
            "maybe_tunes": [ValueError("no item"), BrokenTune(ValueError("bad title")), good],
        },
        "wrong": {"person": FakePerson(), "people": [person, FakePerson()]},
        "cast": {
            "person": strawberry.cast(Person, FakePerson()),
            "people": [strawberry.cast(Person, FakePerson()), person],
        },
        "tuple": {"tunes": (good,), "maybe_tunes": (good, None), "people": (person,)},
        "not-a-list": {"tunes": "abc", "maybe_tunes": 3},
        "undefined": {"maybe_tune": Undefined, "maybe_tunes": [Undefined, good]},
        "things": {
            "thing": strawberry.cast(Band, BandRow("cast")),
            "things": [Band(name="x"), strawberry.cast(Band, BandRow("cast")), good],
            "maybe_things": [None, person, BandRow("row"), ValueError("no thing"), good],
        },
        "wrong-things": {"thing": person, "things": [good, person]},
        "null-things": {"thing": None, "things": [good, None]},
    }
    if kind == "awaitable":
        changes[kind] = {
            "tune": _awaitable_tune(),
            "maybe_tunes": [_awaitable_tune(), good, _awaitable_tune(None)],
        }
    return Shelf(**(values | changes[kind]))


async def _awaitable_tune(title: str | None = "later") -> Tune:
    await asyncio.sleep(0)
    return Tune(title=title, rating=None, mood=Mood.LOUD)  # type: ignore[arg-type]


class BandRow:
    """Not a strawberry object: answered as a ``Band`` only through ``strawberry.cast``."""

    def __init__(self, name: str) -> None:
        self.name = name


class FakePerson:
    """Looks like a ``Person`` but is not one: ``is_type_of`` refuses it."""

    name = "fake"
    age = 1


@strawberry.type
class Box(Generic[T]):
    content: T


@strawberry.type
class Crate:
    label: str


Packed = Annotated[Box[int] | Crate, strawberry.union("Packed")]


def _awaitable_title() -> Any:
    async def value() -> str:
        return "awaited"

    return value()


@strawberry.type
class Leaves:
    """Values a plain leaf's fast path must leave to the scalar (or pass as they are)."""

    big: int = 2**31
    small: int = -(2**31)
    edge: int = 2**31 - 1
    flag_as_int: int = True
    flag_as_text: str = True  # type: ignore[assignment]
    mood_as_text: str = strawberry.field(default_factory=lambda: Mood.CALM)
    number_as_id: strawberry.ID = 7  # type: ignore[assignment]
    text_as_flag: bool = "yes"  # type: ignore[assignment]
    float_as_int: int = 3.0  # type: ignore[assignment]


@strawberry.input
class Span:
    low: int
    high: int


class Deny(BasePermission):
    message = "denied"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.interface
class Greeter:
    @strawberry.field
    def greet(self, word: str) -> str:
        return f"{word}, greeter"


@strawberry.type
class Dog(Greeter):
    @strawberry.field
    def greet(self, word: str) -> str:
        return f"{word}, woof"


@strawberry.type
class Cat(Greeter):
    @strawberry.field
    def greet(self, word: str, loud: bool = False) -> str:
        return f"{word}, MEOW" if loud else f"{word}, meow"


@strawberry.type
class Query:
    @strawberry.field
    def echo(self, text: str, times: int = 1, mood: Mood = Mood.CALM) -> str:
        return f"{text * times}:{mood.value}"

    @strawberry.field
    async def echo_later(self, info: strawberry.Info, text: str) -> str:
        await asyncio.sleep(0)
        return f"{text}@{info.path.key}"

    @strawberry.field
    def rooted(root, tag: str) -> str:
        return f"{tag}:{type(root).__name__}"

    @strawberry.field
    def total(self, values: list[int]) -> int:
        values.append(1)  # a request's list is its own: nothing to share
        return sum(values)

    @strawberry.field
    def weekday(self, day: date) -> str:
        return day.strftime("%A")

    @strawberry.field
    def width(self, span: Span) -> int:
        return span.high - span.low

    @strawberry.field
    def fail(self, why: str) -> str | None:
        raise ValueError(why)

    @strawberry.field
    async def fail_later(self, why: str) -> str:
        raise ValueError(why)

    @strawberry.field(permission_classes=[Deny])  # type: ignore[untyped-decorator]
    def guarded(self, text: str) -> str | None:
        return text

    @strawberry.field
    def greeters(self) -> list[Greeter]:
        return [Dog(), Cat()]

    @strawberry.field
    def leaves(self) -> Leaves:
        return Leaves()

    @strawberry.field
    def tunes(self) -> list[Tune]:
        return [
            Tune(title="a", rating=1, mood=Mood.CALM),
            Tune(title="b", rating=None, mood=Mood.LOUD),
        ]

    @strawberry.field
    def broken(self, kind: str) -> Tune | None:
        sources: dict[str, Any] = {
            "raise": lambda: BrokenTune(ValueError("cannot read the title")),
            "null": lambda: BrokenTune(None),
            "refused": lambda: BrokenTune(object()),
            "exception-value": lambda: BrokenTune(None, rating=RuntimeError("a value")),
            "bad-enum": lambda: BrokenTune("t", mood="not a mood"),
            "awaitable": lambda: BrokenTune(_awaitable_title()),
        }
        return sources[kind]()  # type: ignore[no-any-return]

    @strawberry.field
    def broken_list(self) -> list[Tune]:
        return [Tune(title="ok", rating=2, mood=Mood.CALM), BrokenTune(None)]  # type: ignore[list-item]

    @strawberry.field
    def items(self) -> list[Item]:
        return [Tune(title="u", rating=3, mood=Mood.LOUD), Band(name="the band")]

    @strawberry.field
    def people(self) -> list[Named]:
        return [Person(name="p", age=30)]

    @strawberry.field
    def shelf(self, kind: str) -> Shelf | None:
        return _shelf(kind)

    @strawberry.field
    def shelves(self) -> list[Shelf]:
        return [_shelf("good"), _shelf("null-items")]

    @strawberry.field
    def cast_items(self) -> list[Item]:
        return [strawberry.cast(Band, BandRow("cast band")), Band(name="plain")]  # type: ignore[list-item]

    @strawberry.field
    def wrong_item(self) -> Item | None:
        return Person(name="not an item", age=1)  # type: ignore[return-value]

    @strawberry.field
    def wrong_items(self) -> list[Item | None]:
        return [BandRow("not strawberry"), Band(name="ok"), {"name": "a dict"}]  # type: ignore[list-item]

    @strawberry.field
    def person(self, fake: bool) -> Person | None:
        return FakePerson() if fake else Person(name="real", age=2)  # type: ignore[return-value]

    @strawberry.field
    def cast_person(self) -> Person:
        return strawberry.cast(Person, FakePerson())  # type: ignore[return-value]

    @strawberry.field
    def packed(self) -> list[Packed]:
        return [Box(content=3), Crate(label="c")]

    @strawberry.field
    async def slow(self) -> Tune:
        await asyncio.sleep(0)
        return Tune(title="slow", rating=None, mood=Mood.CALM)


SCHEMA = strawberry.Schema(query=Query, types=[Person, Dog, Cat])
PLANNED = planned_context_class(StrawberryGraphQLCoreExecutionContext)

DOCUMENTS = [
    "{ tunes { title rating mood shout } }",
    "{ tunes { t: title r: rating ...F } } fragment F on Tune { mood title }",
    '{ broken(kind: "raise") { title rating } }',
    '{ broken(kind: "null") { title rating } }',
    '{ broken(kind: "refused") { title } }',
    '{ broken(kind: "exception-value") { rating title } }',
    '{ broken(kind: "bad-enum") { mood } }',
    '{ broken(kind: "awaitable") { title } }',
    "{ brokenList { title rating } }",
    "{ items { __typename ... on Tune { title mood } ... on Band { name } } }",
    "{ people { name ... on Person { age } } }",
    *(
        f'{{ shelf(kind: "{kind}") {{ tune {{ title }} maybeTune {{ title rating }}'
        " tunes { title mood } maybeTunes { title later } person { name }"
        " people { name age } } }"
        for kind in (
            "good",
            "nulls",
            "null-items",
            "errors",
            "wrong",
            "cast",
            "tuple",
            "not-a-list",
            "awaitable",
            "undefined",
        )
    ),
    *(
        f'{{ shelf(kind: "{kind}") {{ thing {{ __typename ... on Band {{ name }} }}'
        " things { ... on Tune { title } ... on Band { name } }"
        " maybeThings { __typename ... on Tune { mood } } } }"
        for kind in ("good", "things", "wrong-things", "null-things")
    ),
    '{ shelf(kind: "things") { things { __typename } } }',
    "{ leaves { big } }",
    "{ leaves { small } }",
    "{ leaves { edge flagAsInt flagAsText moodAsText numberAsId textAsFlag floatAsInt } }",
    '{ echo(text: "a") b: echo(text: "b", times: 2) c: echo(text: "c", mood: LOUD) }',
    '{ a: echoLater(text: "x") b: echoLater(text: "y") rooted(tag: "t") }',
    "query Q($t: String!) { echo(text: $t) echoLater(text: $t) }",
    "{ total(values: [1, 2]) again: total(values: [3]) }",
    "{ width(span: {low: 1, high: 5}) }",
    '{ weekday(day: "2026-12-03") }',
    '{ fail(why: "no") echo(text: "ok") failLater(why: "later") }',
    '{ guarded(text: "x") echo(text: "y") }',
    '{ greeters { ...G } } fragment G on Greeter { greet(word: "hi") }',
    '{ greeters { greet(word: "a") ... on Cat { loud: greet(word: "b", loud: true) } } }',
    '{ shelf(kind: "errors") { maybeTunes { rating } } }',
    '{ shelf(kind: "errors") { maybeTune { title } maybeTunes { title } } }',
    '{ shelf(kind: "errors") { tunes { title } } }',
    '{ shelf(kind: "nulls") { maybeTune { title } maybeTunes { title } tunes { title } } }',
    '{ shelf(kind: "wrong") { people { name } } }',
    '{ shelf(kind: "awaitable") { maybeTunes { mood } tune { later } } }',
    "{ shelves { tunes { t: title ... on Tune { later } } maybeTunes { title } } }",
    "{ shelves { tunes @include(if: true) { title } people { ...P } } }"
    " fragment P on Person { name }",
    "{ castItems { __typename ... on Band { name } } }",
    "{ wrongItem { __typename } }",
    "{ wrongItems { __typename ... on Band { name } } }",
    "{ a: person(fake: false) { name age } b: person(fake: true) { name } }",
    "{ castPerson { name age } }",
    "{ packed { __typename ... on IntBox { content } ... on Crate { label } } }",
    "{ items @include(if: true) { __typename } tunes @skip(if: false) { title } }",
    "{ slow { title later rating } }",
    "query Q($s: Boolean!, $i: Boolean!) { tunes { title @skip(if: $s) rating @include(if: $i) } }",
    "{ tunes { title @skip(if: true) rating @include(if: false) mood @include(if: true) } }",
    "{ __schema { queryType { name } } __typename }",
]
VARIABLES = [{"s": True, "i": False, "t": "one"}, {"s": False, "i": True, "t": "two"}]


async def _run(document: str, executor_class: type[Any], variables: Any = None) -> ExecutionResult:
    result = execute(
        SCHEMA._schema, parse(document), variable_values=variables, executor_class=executor_class
    )
    return await result if asyncio.iscoroutine(result) else result  # type: ignore[return-value]


def _observable(result: ExecutionResult) -> Any:
    errors = [
        (e.message, e.path, [(loc.line, loc.column) for loc in e.locations or ()])
        for e in result.errors or ()
    ]
    return result.data, sorted(errors, key=repr)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_planned_executor_answers_what_graphql_core_answers(document: str) -> None:
    for variables in VARIABLES:
        standard = asyncio.run(_run(document, StrawberryGraphQLCoreExecutionContext, variables))
        for _ in range(3):  # the second and third runs come from the caches
            planned = asyncio.run(_run(document, PLANNED, variables))
            assert _observable(planned) == _observable(standard)


def test_errors_in_plain_fields_are_located_and_propagate_to_the_nullable_parent() -> None:
    result = asyncio.run(_run('{ broken(kind: "raise") { title rating } }', PLANNED))
    assert result.data == {"broken": None}
    assert result.errors is not None
    [error] = result.errors
    assert error.message == "cannot read the title"
    assert error.path == ["broken", "title"]
    assert error.locations is not None and (error.locations[0].line, error.locations[0].column) == (
        1,
        27,
    )

    result = asyncio.run(_run("{ brokenList { title rating } }", PLANNED))
    assert result.data is None  # a non-null list of non-null tunes: up to the root
    assert [e.message for e in result.errors or ()] == [
        "Cannot return null for non-nullable field Tune.title."
    ]
    assert [e.path for e in result.errors or ()] == [["brokenList", 1, "title"]]


def test_skip_and_include_follow_the_variables_of_each_request() -> None:
    document = "query Q($s: Boolean!) { tunes { title @skip(if: $s) rating } }"
    skipped = asyncio.run(_run(document, PLANNED, {"s": True}))
    kept = asyncio.run(_run(document, PLANNED, {"s": False}))
    assert skipped.data == {"tunes": [{"rating": 1}, {"rating": None}]}
    assert kept.data == {"tunes": [{"title": "a", "rating": 1}, {"title": "b", "rating": None}]}


def test_only_basic_leaf_fields_take_the_shortcut() -> None:
    schema = SCHEMA._schema
    tune = schema.get_type("Tune")
    query = schema.get_type("Query")
    assert plain_leaf(schema, tune, "title") is not None  # type: ignore[arg-type]
    assert plain_leaf(schema, tune, "mood") is not None  # type: ignore[arg-type]
    assert plain_leaf(schema, tune, "shout") is None  # type: ignore[arg-type]  # a resolver
    assert plain_leaf(schema, tune, "later") is None  # type: ignore[arg-type]  # async
    assert plain_leaf(schema, query, "broken") is None  # type: ignore[arg-type]  # arguments
    assert plain_leaf(schema, query, "tunes") is None  # type: ignore[arg-type]  # not a leaf


def test_only_strawberry_resolution_of_non_generic_types_is_planned() -> None:
    schema = SCHEMA._schema
    item = union_members(schema.get_type("Item"))  # type: ignore[arg-type]
    assert item is not None and {t.name for t in item.values()} == {"Tune", "Band"}
    assert union_members(schema.get_type("Packed")) is None  # type: ignore[arg-type]  # generic
    assert union_members(schema.get_type("Named")) is None  # type: ignore[arg-type]  # interface
    assert own_classes(schema.get_type("Person")) == (Named, Person)  # type: ignore[arg-type]
    assert own_classes(schema.get_type("Tune")) is None  # type: ignore[arg-type]  # no is_type_of


def test_only_resolvers_without_extensions_or_handlers_are_called_directly() -> None:
    schema = SCHEMA._schema
    query = schema.get_type("Query")
    assert resolver_field(query.fields["echo"]) is not None  # type: ignore[union-attr]
    assert resolver_field(query.fields["echoLater"]) is not None  # type: ignore[union-attr]
    assert resolver_field(query.fields["guarded"]) is None  # type: ignore[union-attr]  # permission
    assert resolver_field(query.fields["greeters"]) is not None  # type: ignore[union-attr]
    tune = schema.get_type("Tune")
    assert resolver_field(tune.fields["title"]) is None  # type: ignore[union-attr]  # no resolver
    fields = query.fields  # type: ignore[union-attr]
    assert convertible(fields["echo"])  # String, Int, an enum: converted once per node
    assert not convertible(fields["weekday"])  # a custom scalar: strawberry's, per request
    assert not convertible(fields["total"]) and not convertible(fields["width"])  # list, input
    dog, cat = schema.get_type("Dog"), schema.get_type("Cat")
    assert field_plan(schema, dog, "greet") is not field_plan(schema, cat, "greet")  # type: ignore[arg-type]


def test_converted_arguments_are_reused_without_strawberry_converting_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from strawberry.types.arguments import convert_arguments as convert

    calls: list[Any] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return convert(*args, **kwargs)

    # strawberry's resolver chain converts through this name (``get_arguments``)
    monkeypatch.setattr("strawberry.schema.schema_converter.convert_arguments", counting)
    document = '{ direct: echo(text: "z", times: 3) }'
    first = asyncio.run(_run(document, PLANNED))
    calls.clear()
    again = asyncio.run(_run(document, PLANNED))
    assert again.data == first.data == {"direct": "zzz:calm"}
    assert calls == []  # literal arguments: converted once, for the document's node
    asyncio.run(_run("query Q($t: String!) { echo(text: $t) }", PLANNED, {"t": "v"}))
    assert len(calls) == 1  # a variable: strawberry converts it on every request


def test_cached_arguments_never_mix_documents_operations_or_variables() -> None:
    two_operations = 'query A { echo(text: "a") } query B { echo(text: "b", times: 2) }'
    with_variable = "query V($t: String!) { echo(text: $t) }"
    for round_ in range(3):
        for name, expected in (("A", "a:calm"), ("B", "bb:calm")):
            result = execute(
                SCHEMA._schema, parse(two_operations), operation_name=name,
                executor_class=PLANNED,
            )  # fmt: skip
            assert result.data == {"echo": expected}  # type: ignore[union-attr]
        for text in ("x", "y"):
            result = execute(
                SCHEMA._schema, parse(with_variable), variable_values={"t": f"{text}{round_}"},
                executor_class=PLANNED,
            )  # fmt: skip
            assert result.data == {"echo": f"{text}{round_}:calm"}  # type: ignore[union-attr]
        other = asyncio.run(_run('{ echo(text: "c") }', PLANNED))
        assert other.data == {"echo": "c:calm"}


def test_resolver_errors_keep_their_paths_and_null_the_nullable_field() -> None:
    result = asyncio.run(_run('{ fail(why: "no") echo(text: "ok") }', PLANNED))
    result = asyncio.run(_run('{ fail(why: "no") echo(text: "ok") }', PLANNED))  # cached
    assert result.data == {"fail": None, "echo": "ok:calm"}
    assert [(e.message, e.path) for e in result.errors or ()] == [("no", ["fail"])]
    result = asyncio.run(_run('{ failLater(why: "late") }', PLANNED))
    result = asyncio.run(_run('{ failLater(why: "late") }', PLANNED))
    assert result.data is None  # non-null: up to the root
    assert [(e.message, e.path) for e in result.errors or ()] == [("late", ["failLater"])]


def test_the_argument_cache_stays_bounded_and_right(monkeypatch: pytest.MonkeyPatch) -> None:
    import schema.execution_plan as plan

    monkeypatch.setattr(plan, "ARGUMENTS_CACHED", 2)
    planned = planned_context_class(StrawberryGraphQLCoreExecutionContext)
    for round_ in range(3):
        for n in range(5):  # more nodes than the cache keeps: the oldest are dropped
            result = asyncio.run(_run(f'{{ echo(text: "{n}", times: {round_ + 1}) }}', planned))
            assert result.data == {"echo": f"{str(n) * (round_ + 1)}:calm"}


@pytest.mark.parametrize(
    "document",
    [
        "{ tunes { title rating } }",
        "{ slow { title later rating } }",
        '{ shelf(kind: "wrong") { people { name } } }',
    ],
)
def test_an_execution_leaves_no_cyclic_garbage(document: str) -> None:
    """perf (issue 18): graphql-core's execution context refers to itself (its
    ``async_helpers`` hold its own bound methods); the planned context breaks that cycle
    once its result is built, so a request's objects are freed by reference counting
    instead of waiting for (and costing) a garbage collection."""
    result, contexts = _cyclic_contexts(lambda: asyncio.run(_run(document, PLANNED)))
    assert result.data is not None or result.errors
    assert contexts == []


def _cyclic_contexts(run: Any) -> tuple[Any, list[Any]]:
    """``run()``'s second result, and the planned contexts it left as cyclic garbage (the
    first run makes the plans and caches, which are not garbage)."""
    run()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = run()
        gc.collect()
        contexts = [o for o in gc.garbage if isinstance(o, PLANNED)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    return result, contexts


# perf (issue 18): ``schema.prepared_execution`` runs the planned executor's root path with
# what graphql-core's setup derives from the document worked out once; it answers exactly
# what graphql-core's ``execute`` answers with the same executor class (data, errors in
# their order with messages, paths, locations and extensions).

IS_AWAITABLE = cast(Callable[[Any], TypeGuard[Awaitable[Any]]], optimized_is_awaitable)
"""Strawberry's check, as ``schema.execution`` passes it."""

_parsed = lru_cache(maxsize=None)(parse)
"""One document per text, as ``schema.execution``'s parse cache: the prepared entries are
kept per document."""


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def first(self, info: strawberry.Info, text: str) -> str:
        await asyncio.sleep(0)
        info.context.append(f"first:{text}")
        return text

    @strawberry.mutation
    def second(self, info: strawberry.Info, text: str) -> str:
        info.context.append(f"second:{text}")
        return text

    @strawberry.mutation
    def refuse(self, why: str) -> str:
        raise ValueError(why)


MUTABLE = strawberry.Schema(query=Query, mutation=Mutation, types=[Person, Dog, Cat])
MUTABLE_PLANNED = planned_context_class(StrawberryGraphQLCoreExecutionContext)


def _through(
    schema: Any, planned: type[Any], prepared: PreparedExecution | None, document: str,
    variables: Any = None, operation_name: str | None = None, context: Any = None,
) -> ExecutionResult:  # fmt: skip
    """One run, in an event loop as a request runs, through the prepared path
    (``prepared``) or graphql-core's ``execute``."""

    async def run() -> ExecutionResult:
        kwargs: dict[str, Any] = {"operation_extensions": None}
        if prepared is None:
            outcome: Any = execute(
                schema._schema, _parsed(document), variable_values=variables,
                operation_name=operation_name, context_value=context, executor_class=planned,
                is_awaitable=IS_AWAITABLE, **kwargs,
            )  # fmt: skip
        else:
            outcome = prepared.execute(
                _parsed(document), variables, operation_name, context, IS_AWAITABLE,
                **kwargs,
            )  # fmt: skip
        return await outcome if asyncio.iscoroutine(outcome) else outcome  # type: ignore[no-any-return]

    return asyncio.run(run())


def _exact(result: ExecutionResult) -> Any:
    return result.formatted, [type(e.original_error) for e in result.errors or ()]


def _same(
    document: str, variables: Any = None, operation_name: str | None = None,
    schema: Any = SCHEMA, planned: type[Any] = PLANNED,
) -> ExecutionResult:  # fmt: skip
    """The prepared path's answer, after checking it is graphql-core's, three times (the
    second and third from the caches)."""
    prepared = PreparedExecution(schema._schema, planned)
    standard = _through(schema, planned, None, document, variables, operation_name)
    for _ in range(3):
        result = _through(schema, planned, prepared, document, variables, operation_name)
        assert _exact(result) == _exact(standard)
    return result


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_prepared_path_answers_what_graphql_core_execute_answers(document: str) -> None:
    for variables in (None, *VARIABLES):
        _same(document, variables)


@pytest.mark.parametrize(
    "variables",
    [
        {"t": "a"},
        {"t": "a", "n": 3},
        {"t": "a", "n": None},
        {},
        None,
        {"t": None},
        {"t": 5},
        {"t": "a", "n": "many"},
        {"t": ["a"], "n": 2**40},
        {"t": "a", "unknown": 1},
    ],
)
def test_variables_are_coerced_as_graphql_core_coerces_them(variables: Any) -> None:
    document = (
        "query Q($t: String!, $n: Int = 2, $m: Mood)"
        " { echo(text: $t, times: $n) m: echo(text: $t, mood: $m) }"
    )
    result = _same(document, variables)
    if variables and variables.get("t") == "a" and variables.get("n", 2) in (2, 3):
        assert result.data is not None and not result.errors
    _same("query W($s: Span!) { width(span: $s) }", {"s": variables})
    _same("query W($s: Span!) { width(span: $s) }", {"s": {"low": 1, "high": 4}})
    _same("query D($d: Date!) { weekday(day: $d) }", {"d": variables and variables.get("t")})


def test_too_many_coercion_errors_are_cut_as_graphql_core_cuts_them() -> None:
    names = [f"v{n}" for n in range(60)]
    document = (
        "query Many(" + ", ".join(f"${name}: Int!" for name in names) + ") { "
        + " ".join(f"{name}: echo(text: \"x\", times: ${name})" for name in names) + " }"
    )  # fmt: skip
    result = _same(document, {name: "not a number" for name in names})
    assert result.errors is not None and len(result.errors) == 51


@pytest.mark.parametrize("operation_name", ["A", "B", "C", None, "Mood"])
def test_operations_are_chosen_as_graphql_core_chooses_them(operation_name: str | None) -> None:
    document = (
        'query A { echo(text: "a") } query B($t: String = "b") { echo(text: $t, times: 2) }'
        ' query Mood { echo(text: "m", mood: LOUD) } fragment T on Tune { title }'
    )
    _same(document, None, operation_name)
    _same(document, {"t": "v"}, operation_name)
    _same('{ echo(text: "only") }', None, operation_name)
    _same('mutation M { first(text: "x") }', None, operation_name)  # no mutation root


def test_errors_propagate_nulls_as_graphql_core_propagates_them() -> None:
    result = _same('{ fail(why: "no") echo(text: "ok") failLater(why: "later") }')
    assert result.data is None and result.errors is not None
    result = _same("{ brokenList { title rating } }")  # a non-null violation up to the root
    assert result.data is None
    result = _same('{ a: broken(kind: "null") { title } b: echo(text: "b") }')
    assert result.data == {"a": None, "b": "b:calm"}
    _same('{ fail(why: "one") other: fail(why: "two") slow { title } }')


def test_introspection_answers_as_graphql_core_answers() -> None:
    _same('{ __type(name: "Tune") { name fields { name type { name kind } } } }')
    _same(
        "query I($n: String!, $d: Boolean!) { __type(name: $n) { name"
        " fields(includeDeprecated: $d) { name } } __typename }",
        {"n": "Shelf", "d": True},
    )
    _same("{ __schema { types { name } directives { name args { name } } } }")


def test_mutations_run_serially_as_graphql_core_runs_them() -> None:
    document = 'mutation M { a: first(text: "1") b: second(text: "2") c: first(text: "3") }'
    orders = []
    for prepared in (None, PreparedExecution(MUTABLE._schema, MUTABLE_PLANNED)):
        for _ in range(2):
            context: list[str] = []
            result = _through(MUTABLE, MUTABLE_PLANNED, prepared, document, context=context)
            assert result.data == {"a": "1", "b": "2", "c": "3"}
            orders.append(context)
    assert orders == [["first:1", "second:2", "first:3"]] * 4
    _same(
        'mutation { refuse(why: "no") second(text: "2") }', schema=MUTABLE, planned=MUTABLE_PLANNED
    )
    _same(
        "mutation V($t: String!) { first(text: $t) }",
        {"t": 3},
        schema=MUTABLE,
        planned=MUTABLE_PLANNED,
    )


def test_only_plain_queries_and_mutations_are_prepared() -> None:
    prepared = PreparedExecution(SCHEMA._schema, PLANNED)
    assert prepared._prepare(parse('{ echo(text: "a") }'), None) is not None
    assert prepared._prepare(parse("query Q($t: String!) { echo(text: $t) }"), "Q") is not None
    for document, name in (
        ("subscription { tunes { title } }", None),
        ("{ tunes { ... @defer { title } } }", None),
        ("{ tunes @stream { title } }", None),
        ("{ tunes { ...F } } fragment F on Tune { title @defer }", None),
        ('query A { echo(text: "a") } query B { echo(text: "b") }', None),  # which one?
        ('query A { echo(text: "a") }', "B"),  # unknown
        ('mutation { echo(text: "a") }', None),  # no mutation root here
    ):
        assert prepared._prepare(parse(document), name) is None, document
    assert root_path_is_graphql_cores(PLANNED)
    assert root_path_is_graphql_cores(StrawberryGraphQLCoreExecutionContext)

    class OwnResponse(PLANNED):  # type: ignore[misc,valid-type]
        def build_response(self, data: Any) -> Any:
            return super().build_response(data)

    assert not root_path_is_graphql_cores(OwnResponse)

    class OwnInit(StrawberryGraphQLCoreExecutionContext):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)

    assert not root_path_is_graphql_cores(planned_context_class(OwnInit))
    assert root_path_is_graphql_cores(planned_context_class(StrawberryGraphQLCoreExecutionContext))
    assert (
        PreparedExecution(SCHEMA._schema, OwnResponse)._prepare(parse("{ tunes { title } }"), None)
        is None
    )


def test_the_prepared_entries_stay_bounded_and_right(monkeypatch: pytest.MonkeyPatch) -> None:
    import schema.prepared_execution as prepared_execution

    monkeypatch.setattr(prepared_execution, "PREPARED_CACHED", 2)
    prepared = PreparedExecution(SCHEMA._schema, PLANNED)
    for round_ in range(3):
        for n in range(5):
            document = f'query N{n} {{ echo(text: "{n}", times: {round_ + 1}) }}'
            result = _through(SCHEMA, PLANNED, prepared, document, None, f"N{n}")
            assert result.data == {"echo": f"{str(n) * (round_ + 1)}:calm"}
            assert len(prepared._prepared) <= 2


@pytest.mark.parametrize(
    "document",
    [
        "{ tunes { title rating } }",
        "{ slow { title later rating } }",
        '{ shelf(kind: "wrong") { people { name } } }',
        '{ fail(why: "no") echo(text: "ok") failLater(why: "later") }',
        "query Q($t: String!) { echo(text: $t) echoLater(text: $t) }",
    ],
)
def test_a_prepared_execution_leaves_no_cyclic_garbage(document: str) -> None:
    """As ``test_an_execution_leaves_no_cyclic_garbage``, through the prepared path."""
    prepared = PreparedExecution(SCHEMA._schema, PLANNED)
    variables = {"t": "x"}
    result, contexts = _cyclic_contexts(
        lambda: _through(SCHEMA, PLANNED, prepared, document, variables)
    )
    assert result.data is not None or result.errors
    assert contexts == []


def _pipeline(prepared: bool) -> Any:
    from schema.costs import COST_RULES
    from schema.execution import Executor
    from schema.limits import DocumentChecker, DocumentLimits

    pipeline = Executor(
        MUTABLE._schema, DocumentChecker(COST_RULES, DocumentLimits()), introspection=True,
        field_suggestions=True, execution_context_class=StrawberryGraphQLCoreExecutionContext,
        context_kwargs=MUTABLE._get_custom_context_kwargs,
    )  # fmt: skip
    if not prepared:
        pipeline._prepared._usable = False  # every document to graphql-core's execute
    return pipeline


@pytest.mark.parametrize(
    ("document", "variables", "operation_name"),
    [
        ('{ echo(text: "a") tunes { title } }', None, None),
        ('query A { echo(text: "a") } query B { echo(text: "b") }', None, "B"),
        ('query A { echo(text: "a") } query B { echo(text: "b") }', None, None),
        ('query A { echo(text: "a") } query B { echo(text: "b") }', None, "C"),
        ('{ echo(text: "a") } query B { echo(text: "b") }', None, None),
        ("query Q($t: String!) { echo(text: $t) }", {"t": 3}, "Q"),
        ("query Q($t: String!) { echo(text: $t) }", {"t": "x"}, None),
        ('{ fail(why: "no") failLater(why: "later") }', None, None),
        ('mutation M { a: first(text: "1") refuse(why: "no") }', None, "M"),
        ("subscription S { x }", None, None),
        ("{ tunes { title ", None, None),
    ],
)
def test_schema_execution_answers_the_same_through_the_prepared_path(
    document: str, variables: Any, operation_name: str | None
) -> None:
    """``schema.execution.Executor`` end to end (operation kept per document, validation,
    masking), prepared against graphql-core's ``execute``: answers and raised errors."""

    def outcome(pipeline: Any) -> Any:
        try:
            result = asyncio.run(
                pipeline.execute(document, variables, [], operation_name, None, None)
            )
        except Exception as error:  # transport errors the view answers
            return type(error), str(error)
        errors = [(e.message, e.path, e.locations, e.extensions) for e in result.errors or ()]
        return result.data, errors, result.extensions

    standard, fast = _pipeline(prepared=False), _pipeline(prepared=True)
    expected = outcome(standard)
    for _ in range(3):
        assert outcome(fast) == expected
        assert outcome(standard) == expected
