"""perf (issue 18): graphql-core's executor with shortcuts that give the same results for
less CPU, and its standard path for everything else.

1. **Plain leaf fields.** A strawberry field with no resolver, no field extensions
   (permission classes are one) and no exception handlers is "basic": strawberry's own
   resolver for it ignores the ``info`` and reads the attribute. When such a field has a
   Scalar or Enum type (nullable or not) and no arguments, the attribute is read and
   coerced here without building a ``GraphQLResolveInfo`` or walking ``complete_value``:
   the same value, the same errors (an exception while reading, a null for a non-null
   field, a value the scalar refuses), located and propagated by graphql-core's
   ``handle_field_error``. A value that is awaitable takes graphql-core's path.
2. **Sub-selections collected once per document.** ``collect_subfields`` (fragments
   merged, ``@skip``/``@include`` applied) depends only on the document, the object type
   and, through directives, on variables: for an operation without variables, without
   fragment variables and without ``@defer``, the grouped field set is kept across
   requests in a bounded map, keyed by the type and the field nodes (held alive by the
   entry, so their ids stay unique).

3. **Union members by definition.** Strawberry's union ``resolve_type`` looks for a
   ``strawberry.cast`` and then walks the union's members (and the type map) asking each
   whether it is implemented by the value. For a value that is not cast and whose
   ``__strawberry_definition__`` is one of the union's members' (a non-generic type:
   identity is what ``is_implemented_by`` checks first), the answer is that member, so it
   is looked up in a map built once per union. Everything else (casts, generics, dicts,
   values of other types, a custom ``resolve_type``) goes to strawberry's resolver.
4. **Strawberry's ``is_type_of`` inline.** For an object type implementing interfaces,
   strawberry's ``is_type_of`` is "the cast, if any, is one of the type's classes;
   otherwise ``isinstance``". For a non-generic type without its own ``is_type_of``
   that is evaluated here without the call; a value that fails it takes graphql-core's
   path (the same error).
5. **Plain object and list-of-object fields.** A basic field (as in 1) whose type is an
   Object type, or a list of one (each nullable or not), whose ``is_type_of`` is absent
   or strawberry's (4), is read directly; a value that is an instance of the type (or,
   for a list, a ``list`` without ``@stream`` on the field) has its sub-selections
   executed with no ``GraphQLResolveInfo`` and without ``complete_value``'s dispatch.
   Each item's errors are handled as graphql-core's ``complete_list_item_value`` does
   (``handle_field_error`` with the item type and path), awaitable sub-results are
   gathered as ``complete_iterable_value`` gathers them; any other value (null, an
   exception, an awaitable, a value of another class, a cast, another iterable) and any
   other item (null, awaitable, refused) is completed by graphql-core's own methods.
6. **No ``@stream`` lookup for lists without directives.** ``get_stream_usage`` reads the
   ``@stream`` directive of the first field node; with no directives there it is ``None``.
7. **Plain leaves inside ``execute_fields``.** A plain leaf (1) whose value is neither
   null, an exception nor awaitable and which its scalar coerces is written into the
   result there, with no ``Path`` and no ``execute_field`` call; any other value takes
   shortcut 1's path with its ``Path`` (the scalar coerces it again, to the same error).

8. **Built-in scalars' own values.** A plain leaf of ``String``/``ID`` holding a ``str``,
   of ``Boolean`` holding a ``bool``, of ``Int`` holding an ``int`` within 32 bits (the
   exact types, not subclasses such as enums) is what the scalar's coercion answers: it
   is written without calling ``is_awaitable`` or the coercion.
9. **Union fields.** A basic field (as in 1) whose type is a union resolved by
   strawberry's definition map (3), or a list of one, is read as in 5: an item whose
   member is found (and passes its ``is_type_of``, as 4) has that member's sub-selections
   executed; any other item takes graphql-core's path.
10. **Strawberry resolvers called directly.** For a field with a resolver and no field
    extensions (permission classes are one), no exception handlers, not a subscription,
    strawberry's chain is: coerce and convert the arguments, build an ``Info``, call the
    resolver with the source and the info where its parameters ask for them. When every
    argument is a built-in scalar or an enum and the field node's arguments hold no
    variable (nor fragment variable), the converted arguments depend on the node alone:
    they are worked out once (the first request takes strawberry's path) and kept by
    (parent type, node) in a bounded map, and later requests call the resolver with them
    (the values are immutable, so no request sees another's). Variables, lists, input
    objects and custom scalars are converted by strawberry on every request.
11. **Steps per grouped field set.** ``execute_fields`` works out each field's plan (and
    converted arguments) once per grouped field set and execution, so the items of a
    list, which share their sub-selections' set, look nothing up again; a list's items
    of one type reach their steps without ``collect_and_execute_subfields`` (when nothing
    is deferred, its ``execute_collected_subfields`` is ``execute_fields``).

12. **Awaited fields without an abort signal.** graphql-core's
    ``complete_awaitable_value`` awaits the resolver's value through
    ``with_abort_signal``, which without a signal is ``await value``: that is done inline
    (one coroutine less per awaited field); with a signal, graphql-core's. A value of
    a nullable object type (neither null nor an exception) goes to
    ``complete_object_value`` without ``complete_value``'s type dispatch.

The root path (the executor built, the root fields collected and executed, the response)
is ``schema.prepared_execution``'s for queries and mutations.

Other completions, errors, null propagation, ``@stream``/``@defer``, middleware and
mutations' serial execution are graphql-core's.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from enum import Enum
from typing import Any

from graphql import (
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    ListValueNode,
    ObjectValueNode,
    VariableNode,
    is_leaf_type,
    specified_scalar_types,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetailsList
from graphql.execution.executor import collect_iterator_awaitables, to_nodes
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from graphql.pyutils import inspect as inspect_value
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from graphql.type.scalars import serialize_boolean, serialize_id, serialize_int, serialize_string
from strawberry.types.arguments import convert_arguments
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE, get_strawberry_type_cast
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver

BASIC_RESOLVER = "_get_basic_result"
"""The name of strawberry's resolver for a basic field (``schema_converter.from_resolver``)."""

DEFINITION = "strawberry-definition"
"""Where strawberry keeps a GraphQL type's definition (``GraphQLCoreConverter``)."""

UNION_RESOLVER = "StrawberryUnion.get_type_resolver.<locals>._resolve_union_type"
IS_TYPE_OF = "GraphQLCoreConverter.from_object.<locals>._get_is_type_of.<locals>.is_type_of"
"""The qualified names of strawberry's union ``resolve_type`` and object ``is_type_of``."""

SETTLED = frozenset({dict, list, str, int, float, bool, type(None)})
"""Results that are never awaitable: checked by type before ``is_awaitable`` is called."""

SUBFIELDS_CACHED = 4096
"""Collected sub-selections kept across requests (least recently used dropped)."""


class PlainLeaf:
    """What reading one basic leaf field needs."""

    __slots__ = (
        "exact", "getter", "leaf", "message", "name", "non_null", "python_name", "return_type",
    )  # fmt: skip

    def __init__(self, parent: GraphQLObjectType, name: str, return_type: Any, field: Any) -> None:
        self.name = name
        self.return_type = return_type
        self.non_null = isinstance(return_type, GraphQLNonNull)
        self.leaf: GraphQLLeafType = return_type.of_type if self.non_null else return_type
        self.getter = field.default_resolver
        self.python_name: str = field.python_name
        self.message = f"Cannot return null for non-nullable field {parent}.{name}."
        self.exact: type | None = _EXACT.get(getattr(self.leaf, "coerce_output_value", None))


_EXACT: dict[Any, type] = {
    serialize_string: str, serialize_id: str, serialize_boolean: bool, serialize_int: int,
}  # fmt: skip
"""Shortcut 8: the built-in scalars' coercions that answer a value of exactly this type
with the value itself (an ``int`` only within 32 bits: ``MIN_INT``..``MAX_INT``)."""
MIN_INT, MAX_INT = -(2**31), 2**31 - 1


class PlainObject:
    """What reading one basic object, union, or list-of-either field needs (shortcuts 5
    and 9)."""

    __slots__ = (
        "field_def", "getter", "is_list", "item_type", "members", "object_type",
        "python_name", "return_type",
    )  # fmt: skip

    def __init__(
        self, field_def: GraphQLField, field: Any, item_type: Any,
        members: dict[int, tuple[GraphQLObjectType, tuple[type, ...] | None]],
        object_type: GraphQLObjectType | None,
    ) -> None:  # fmt: skip
        self.field_def = field_def
        self.return_type = field_def.type
        self.getter = field.default_resolver
        self.python_name: str = field.python_name
        self.is_list = item_type is not None
        self.item_type = item_type
        self.members = members
        self.object_type = object_type

    def target(self, value: Any) -> GraphQLObjectType | None:
        """The object type whose sub-selections graphql-core would execute on ``value``
        (the field's type, or the union member ``value`` resolves to), or ``None`` when
        graphql-core's path must complete it (null, an exception, a cast, a refusal)."""
        if isinstance(value, Exception):
            return None
        object_type = self.object_type
        if object_type is not None:
            accepted = self.members[0][1]
        else:
            # strawberry's ``get_strawberry_type_cast``, inline
            if getattr(value, TYPE_CAST_ATTRIBUTE, None) is not None:
                return None
            found = self.members.get(id(getattr(value, "__strawberry_definition__", None)))
            if found is None:
                return None
            object_type, accepted = found
            if object_type.is_type_of is None or (
                accepted is not None and isinstance(value, accepted)
            ):
                return object_type
            return None
        if accepted is None:
            return object_type if value is not None and value is not Undefined else None
        if getattr(value, TYPE_CAST_ATTRIBUTE, None) is None and isinstance(value, accepted):
            return object_type
        return None


def _unwrapped(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def plain_object(field_def: GraphQLField, field: Any) -> PlainObject | None:
    inner = _unwrapped(field_def.type)
    item_type = None
    if isinstance(inner, GraphQLList):
        item_type = inner.of_type
        inner = _unwrapped(item_type)
    if isinstance(inner, GraphQLUnionType):
        # Shortcut 9: a union resolved by strawberry's definition map (shortcut 3).
        members = union_members(inner)
        if members is None:
            return None
        targets: dict[int, tuple[GraphQLObjectType, tuple[type, ...] | None]] = {}
        for key, member in members.items():
            accepted = own_classes(member)
            if member.is_type_of is not None and accepted is None:
                return None  # an is_type_of of its own: graphql-core's path
            targets[key] = (member, accepted)
        return PlainObject(field_def, field, item_type, targets, None)
    if not isinstance(inner, GraphQLObjectType):
        return None
    accepted = own_classes(inner)
    if inner.is_type_of is not None and accepted is None:
        return None
    return PlainObject(field_def, field, item_type, {0: (inner, accepted)}, inner)


def plain_leaf(schema: GraphQLSchema, parent: GraphQLObjectType, name: str) -> PlainLeaf | None:
    """The field's leaf shortcut, or ``None``."""
    plan = plain_field(schema, parent, name)
    return plan if isinstance(plan, PlainLeaf) else None


def plain_field(
    schema: GraphQLSchema, parent: GraphQLObjectType, name: str
) -> PlainLeaf | PlainObject | None:
    """The field's shortcut, or ``None`` when graphql-core's path must run it."""
    field_def = schema.get_field(parent, name)
    if field_def is None or field_def.args:
        return None
    resolve = field_def.resolve
    if resolve is None or getattr(resolve, "__name__", None) != BASIC_RESOLVER:
        return None
    field = (field_def.extensions or {}).get("strawberry-definition")
    if field is None or not field.is_basic_field or field.base_resolver is not None:
        return None
    return_type = field_def.type
    inner = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    if not is_leaf_type(inner):
        return plain_object(field_def, field)
    return PlainLeaf(parent, name, return_type, field)


class ResolverField:
    """What calling one strawberry resolver directly needs (shortcut 10): strawberry's
    chain for a field without field extensions and exception handlers is "convert the
    arguments, build an ``Info``, put the source and the info where the resolver's
    parameters ask for them, call it", which is done here with arguments converted once
    per field node (see ``converted_arguments``)."""

    __slots__ = (
        "arguments", "config", "field_def", "info_name", "make_info", "registry",
        "return_type", "self_source", "source_names", "wrapped",
    )  # fmt: skip

    def __init__(self, field_def: GraphQLField, field: Any, cells: dict[str, Any]) -> None:
        resolver = field.base_resolver
        converter = cells["self"]
        self.field_def = field_def
        self.return_type = field_def.type
        self.arguments = field.arguments
        self.config = converter.config
        self.registry = converter.scalar_registry
        self.make_info = cells["_strawberry_info_from_graphql"]
        self.wrapped = resolver.wrapped_func
        self.self_source = resolver.self_parameter is not None
        self.source_names = tuple(
            parameter.name
            for parameter in (resolver.parent_parameter, resolver.root_parameter)
            if parameter is not None
        )
        info = resolver.info_parameter
        self.info_name: str | None = info.name if info is not None else None

    def call(self, source: Any, info: Any, converted: dict[str, Any]) -> Any:
        """What strawberry's resolver answers for these converted arguments."""
        kwargs = dict(converted)
        for name in self.source_names:
            kwargs[name] = source
        if self.info_name is not None:
            kwargs[self.info_name] = self.make_info(info)
        if self.self_source:
            return self.wrapped(source, **kwargs)
        return self.wrapped(**kwargs)


SYNC_RESOLVER = "GraphQLCoreConverter.from_resolver.<locals>._resolver"
ASYNC_RESOLVER = "GraphQLCoreConverter.from_resolver.<locals>._async_resolver"
"""The qualified names of strawberry's resolvers for fields with a resolver function."""


def resolver_field(field_def: GraphQLField) -> ResolverField | None:
    """The field's direct call (shortcut 10), or ``None`` when strawberry's chain must run:
    field extensions (permissions among them), exception handlers, subscriptions, a
    resolver or field class of its own, a sync function strawberry treats as async."""
    resolve = field_def.resolve
    qualname = getattr(resolve, "__qualname__", None)
    if qualname not in (SYNC_RESOLVER, ASYNC_RESOLVER):
        return None
    field = (field_def.extensions or {}).get(DEFINITION)
    if (
        field is None
        or field.base_resolver is None
        or field.extensions
        or field.is_subscription
        or type(field).get_result is not StrawberryField.get_result
        or type(field.base_resolver).__call__ is not StrawberryResolver.__call__
        or not callable(field.base_resolver.wrapped_func)
    ):
        return None
    if qualname == ASYNC_RESOLVER and not inspect.iscoroutinefunction(
        field.base_resolver.wrapped_func
    ):
        return None
    code, closure = resolve.__code__, resolve.__closure__ or ()  # type: ignore[union-attr]
    cells = dict(zip(code.co_freevars, (cell.cell_contents for cell in closure), strict=True))
    handlers = cells.get("field_exception_handlers")
    make_info = cells.get("_strawberry_info_from_graphql")
    if not isinstance(handlers, tuple) or handlers or make_info is None:
        return None
    info_cells = make_info.__code__.co_freevars, make_info.__closure__ or ()
    cells |= dict(zip(info_cells[0], (c.cell_contents for c in info_cells[1]), strict=True))
    if cells.get("field") is not field or "self" not in cells:
        return None
    return ResolverField(field_def, field, cells)


SPECIFIED_SCALARS = tuple(specified_scalar_types.values())


def convertible(field_def: GraphQLField) -> bool:
    """Whether every argument is a built-in scalar or an enum (no list, no input object,
    no custom scalar): their literals coerce to the same values on every request (a
    custom scalar's parsing might not), converting them needs no ``Info``, and the values
    are immutable."""
    for argument in field_def.args.values():
        named = _unwrapped(argument.type)
        if not isinstance(named, GraphQLEnumType) and not any(
            named is scalar for scalar in SPECIFIED_SCALARS
        ):
            return False
    return True


IMMUTABLE = (str, int, float, bool, type(None), Enum)
"""Converted argument values that one request cannot change for the next."""


def without_variables(node: Any) -> bool:
    """Whether no argument value of the field node is (or holds) a variable."""
    pending = [argument.value for argument in node.arguments or ()]
    while pending:
        value = pending.pop()
        if isinstance(value, VariableNode):
            return False
        if isinstance(value, ListValueNode):
            pending.extend(value.values)
        elif isinstance(value, ObjectValueNode):
            pending.extend(field.value for field in value.fields)
    return True


def union_members(union: GraphQLAbstractType) -> dict[int, GraphQLObjectType] | None:
    """The union's members by the id of their strawberry definition (each member holds
    its definition alive, so the ids stay theirs), or ``None`` when strawberry's
    resolver is not the union's (or a member is generic: its resolution reads values)."""
    if not isinstance(union, GraphQLUnionType) or union.resolve_type is None:
        return None
    if getattr(union.resolve_type, "__qualname__", None) != UNION_RESOLVER:
        return None
    members: dict[int, GraphQLObjectType] = {}
    for member in union.types:
        definition = (member.extensions or {}).get(DEFINITION)
        if definition is None or definition.is_graphql_generic or definition.concrete_of:
            return None
        members.setdefault(id(definition), member)
    return members


def own_classes(object_type: GraphQLObjectType) -> tuple[type, ...] | None:
    """The classes strawberry's ``is_type_of`` accepts for the type, or ``None`` when the
    type has no ``is_type_of``, its own, or is generic."""
    is_type_of = object_type.is_type_of
    if is_type_of is None or getattr(is_type_of, "__qualname__", None) != IS_TYPE_OF:
        return None
    definition = (object_type.extensions or {}).get(DEFINITION)
    if definition is None or definition.is_type_of is not None or definition.concrete_of:
        return None
    return (*(interface.origin for interface in definition.interfaces), definition.origin)


def _plain_details(field_details_list: FieldDetailsList) -> bool:
    """Whether no field of the list is deferred or has fragment variables (a loop: a
    generator's frame per call cost more than the check)."""
    for details in field_details_list:
        if details.defer_usage is not None or details.fragment_variable_values:
            return False
    return True


Plan = PlainLeaf | PlainObject | ResolverField | None
Step = tuple[str, FieldDetailsList, Plan, dict[str, Any] | None]
"""One entry of a grouped field set as ``execute_fields`` runs it: the response name, the
field's details, its plan, and (a resolver field) its converted arguments."""

NOT_CONVERTED: dict[str, Any] = {}
"""The marker of a field node whose arguments are converted per request (strawberry's)."""

ARGUMENTS_CACHED = 4096
"""Field nodes whose converted arguments are kept across requests (oldest dropped)."""


def field_plan(schema: GraphQLSchema, parent: GraphQLObjectType, name: str) -> Plan:
    """The field's shortcut (plain leaf or object, or a direct resolver call), or ``None``."""
    plan = plain_field(schema, parent, name)
    if plan is not None:
        return plan
    field_def = schema.get_field(parent, name)
    return resolver_field(field_def) if field_def is not None else None


def planned_context_class(base: type[Any]) -> type[Any]:
    """``base`` (strawberry's execution context class) with the shortcuts above; one
    class per schema, holding that schema's plans."""

    plans: dict[tuple[GraphQLObjectType, str], Plan] = {}
    subfields: OrderedDict[tuple[Any, ...], tuple[Any, CollectedFields]] = OrderedDict()
    unions: dict[GraphQLAbstractType, dict[int, GraphQLObjectType] | None] = {}
    classes: dict[GraphQLObjectType, tuple[type, ...] | None] = {}
    # By (parent type, id of the field node): the entry holds the node alive, so its id
    # stays its own; a node spread into several types (a fragment on an interface) has
    # one entry per type, its field definition's.
    arguments: dict[tuple[GraphQLObjectType, int], tuple[Any, dict[str, Any]]] = {}

    class PlannedExecutionContext(base):  # type: ignore[misc]
        releases_async_helpers = True
        """Its ``execute_operation`` is graphql-core's, then drops the ``async_helpers``
        (``schema.prepared_execution`` runs such a class's root path itself)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # Grouped field sets as steps, by their id (each entry holds its set alive).
            self._planned_steps: dict[int, tuple[Any, list[Step]]] = {}
            # ``subfield_steps`` by (type, id of the field details): the entry holds them.
            self._subfield_steps: dict[tuple[Any, int], tuple[Any, list[Step] | None]] = {}

        def execute_operation(self, serially: bool | None = None) -> Any:
            """graphql-core's, then the reference cycle every execution context is in
            (its ``async_helpers`` hold two of its own bound methods) is broken once the
            result is built. Left in place, each request's context, and what it reaches
            (the request's context value, variables, plans: ≈ 40 objects), waited for
            the garbage collector: measured on ``{ viewer { id email } }``, 9 % of the
            server's time went to collecting them. ``schema.execution`` calls
            graphql-core's non-incremental ``execute``, so nothing runs on this context
            after its result."""
            result = super().execute_operation(serially)
            if not inspect.isawaitable(result):
                self.async_helpers = None
                return result

            async def released() -> Any:
                try:
                    return await result
                finally:
                    self.async_helpers = None

            return released()

        async def complete_awaitable_value(
            self,
            return_type: Any,
            field_details_list: FieldDetailsList,
            info: GraphQLResolveInfo[Any],
            path: Path,
            result: Any,
            position_context: Any,
        ) -> Any:
            """graphql-core's, with ``with_abort_signal`` inline when there is no abort
            signal (it is then ``await result``: shortcut 12, one coroutine less per
            awaited field)."""
            if self.abort_signal is not None:
                return await super().complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            try:
                resolved = await result
                if (
                    type(return_type) is GraphQLObjectType
                    and resolved is not None
                    and resolved is not Undefined
                    and not isinstance(resolved, Exception)
                ):  # what complete_value's dispatch answers for a nullable object type
                    completed = self.complete_object_value(
                        return_type, field_details_list, info, path, resolved, position_context
                    )
                else:
                    completed = self.complete_value(
                        return_type, field_details_list, info, path, resolved, position_context
                    )
                if self.is_awaitable(completed):
                    completed = await completed
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, field_details_list, path)
                completed = None
            return completed

        def plan_of(self, parent_type: GraphQLObjectType, name: str) -> Plan:
            key = (parent_type, name)
            try:
                return plans[key]
            except KeyError:
                plan = plans[key] = field_plan(self.schema, parent_type, name)
                return plan

        def field_steps(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[Step]:
            """The grouped field set's steps, worked out once per execution (a list's
            items share their sub-selections' set)."""
            found = self._planned_steps.get(id(grouped_field_set))
            if found is not None and found[0] is grouped_field_set:
                return found[1]
            steps: list[Step] = []
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                plan = self.plan_of(parent_type, node.name.value)
                converted = None
                if type(plan) is ResolverField:
                    converted = self.converted_arguments(plan, parent_type, field_details_list)
                elif node.arguments:
                    plan = None
                steps.append((response_name, field_details_list, plan, converted))
            self._planned_steps[id(grouped_field_set)] = (grouped_field_set, steps)
            return steps

        def converted_arguments(
            self, plan: ResolverField, parent_type: GraphQLObjectType,
            field_details_list: FieldDetailsList,
        ) -> dict[str, Any] | None:  # fmt: skip
            """The field node's arguments as strawberry converts them, when they depend on
            the node alone (no variable, no fragment variable) and are immutable values;
            ``None`` until they are known (the first request takes strawberry's path)."""
            details = field_details_list[0]
            key = (parent_type, id(details.node))
            found = arguments.get(key)
            if found is not None:
                return found[1] if found[1] is not NOT_CONVERTED else None
            converted = NOT_CONVERTED
            if (
                details.fragment_variable_values is None
                and convertible(plan.field_def)
                and without_variables(details.node)
            ):
                value: dict[str, Any] | None
                try:
                    raw = get_argument_values(plan.field_def, details.node)
                    value = convert_arguments(
                        raw, plan.arguments, scalar_registry=plan.registry, config=plan.config
                    )
                except Exception:  # strawberry's path raises it again, where it does
                    value = None
                if value is not None and all(isinstance(v, IMMUTABLE) for v in value.values()):
                    converted = value
            arguments[key] = (details.node, converted)
            if len(arguments) > ARGUMENTS_CACHED:
                arguments.pop(next(iter(arguments)), None)
            return None

        def execute_field(
            self,
            parent_type: GraphQLObjectType,
            source: Any,
            field_details_list: FieldDetailsList,
            path: Path,
            position_context: Any,
        ) -> Any:
            node = field_details_list[0].node
            plan = self.plan_of(parent_type, node.name.value)
            if plan is None or self.middleware_manager:
                return super().execute_field(
                    parent_type, source, field_details_list, path, position_context
                )
            if type(plan) is ResolverField:
                converted = self.converted_arguments(plan, parent_type, field_details_list)
                if converted is None:
                    return super().execute_field(
                        parent_type, source, field_details_list, path, position_context
                    )
                return self.execute_resolver_field(
                    plan, converted, parent_type, source, field_details_list, path,
                    position_context,
                )  # fmt: skip
            if node.arguments:
                return super().execute_field(
                    parent_type, source, field_details_list, path, position_context
                )
            if type(plan) is PlainObject:
                return self.execute_plain_object(
                    plan, parent_type, source, field_details_list, path, position_context
                )
            assert isinstance(plan, PlainLeaf)
            try:
                result = plan.getter(source, plan.python_name)
            except Exception as raw_error:
                self.handle_field_error(raw_error, plan.return_type, field_details_list, path)
                return None
            return self.complete_plain_leaf(
                plan, parent_type, field_details_list, path, position_context, result
            )

        def execute_resolver_field(
            self, plan: ResolverField, converted: dict[str, Any], parent_type: GraphQLObjectType,
            source: Any, field_details_list: FieldDetailsList, path: Path, position_context: Any,
        ) -> Any:  # fmt: skip
            """graphql-core's ``execute_field`` with strawberry's resolver called directly
            on arguments converted once (shortcut 10)."""
            return_type = plan.return_type
            info = self.build_resolve_info(
                plan.field_def, [details.node for details in field_details_list],
                parent_type, path,
            )  # fmt: skip
            try:
                result = plan.call(source, info, converted)
                return self.complete_resolved(
                    return_type, field_details_list, info, path, result, position_context
                )
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, field_details_list, path)
                return None

        def complete_plain_leaf(
            self,
            plan: PlainLeaf,
            parent_type: GraphQLObjectType,
            field_details_list: FieldDetailsList,
            path: Path,
            position_context: Any,
            result: Any,
        ) -> Any:
            """graphql-core's ``execute_field`` after the resolver returned ``result``,
            for a plain leaf field (shortcut 1)."""
            return_type = plan.return_type
            try:
                if self.is_awaitable(result):
                    info = self.build_resolve_info(
                        self.schema.get_field(parent_type, plan.name),
                        [details.node for details in field_details_list],
                        parent_type,
                        path,
                    )
                    return self.complete_awaitable_value(
                        return_type, field_details_list, info, path, result, position_context
                    )
                if isinstance(result, Exception):
                    raise result
                if result is None or result is Undefined:
                    if plan.non_null:
                        raise TypeError(plan.message)
                    return None
                leaf = plan.leaf
                coerced = leaf.coerce_output_value(result)
                if coerced is Undefined or coerced is None:
                    msg = (
                        f"Expected `{inspect_value(leaf)}.coerce_output_value("
                        f"{inspect_value(result)})` to return non-nullable value, returned:"
                        f" {inspect_value(coerced)}"
                    )
                    raise TypeError(msg)
                return coerced
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, field_details_list, path)
                return None

        def execute_fields(
            self,
            parent_type: GraphQLObjectType,
            source_value: Any,
            path: Path | None,
            grouped_field_set: Any,
            position_context: Any,
        ) -> Any:
            """graphql-core's ``execute_fields`` over the set's steps: a plain leaf whose
            value is read and coerced without trouble (shortcuts 7, 8) taking no ``Path``
            and no call, the other planned fields their shortcut's method."""
            if self.middleware_manager:
                return super().execute_fields(
                    parent_type, source_value, path, grouped_field_set, position_context
                )
            return self.run_steps(
                parent_type, source_value, path,
                self.field_steps(parent_type, grouped_field_set), position_context,
            )  # fmt: skip

        def run_steps(
            self,
            parent_type: GraphQLObjectType,
            source_value: Any,
            path: Path | None,
            steps: list[Step],
            position_context: Any,
        ) -> Any:
            """``execute_fields`` for a grouped field set's steps."""
            results: dict[str, Any] = {}
            is_awaitable = self.is_awaitable
            awaitable_fields: list[str] = []
            parent_name = parent_type.name
            try:
                for response_name, field_details_list, plan, converted in steps:
                    kind = type(plan)
                    if kind is PlainLeaf:
                        try:
                            value = plan.getter(source_value, plan.python_name)  # type: ignore[union-attr]
                        except Exception as raw_error:
                            self.handle_field_error(
                                raw_error,
                                plan.return_type,  # type: ignore[union-attr]
                                field_details_list,
                                Path(path, response_name, parent_name),
                            )
                            results[response_name] = None
                            continue
                        value_type = type(value)
                        if value_type is plan.exact and (  # type: ignore[union-attr]
                            value_type is not int or MIN_INT <= value <= MAX_INT
                        ):
                            results[response_name] = value  # shortcut 8
                            continue
                        if (
                            value is not None
                            and value is not Undefined
                            and not is_awaitable(value)
                            and not isinstance(value, Exception)
                        ):
                            try:
                                coerced = plan.leaf.coerce_output_value(value)  # type: ignore[union-attr]
                            except Exception:
                                coerced = None  # coerced again below, to the same error
                            if coerced is not None and coerced is not Undefined:
                                results[response_name] = coerced
                                continue
                        result = self.complete_plain_leaf(
                            plan,  # type: ignore[arg-type]
                            parent_type,
                            field_details_list,
                            Path(path, response_name, parent_name),
                            position_context,
                            value,
                        )
                    elif kind is PlainObject:
                        result = self.execute_plain_object(
                            plan,  # type: ignore[arg-type]
                            parent_type,
                            source_value,
                            field_details_list,
                            Path(path, response_name, parent_name),
                            position_context,
                        )
                    elif converted is not None:
                        result = self.execute_resolver_field(
                            plan,  # type: ignore[arg-type]
                            converted,
                            parent_type,
                            source_value,
                            field_details_list,
                            Path(path, response_name, parent_name),
                            position_context,
                        )
                    else:
                        result = self.execute_field(
                            parent_type,
                            source_value,
                            field_details_list,
                            Path(path, response_name, parent_name),
                            position_context,
                        )
                    if result is not Undefined:
                        results[response_name] = result
                        if type(result) not in SETTLED and is_awaitable(result):
                            awaitable_fields.append(response_name)
            except Exception:
                if awaitable_fields:
                    self.settle_in_background([results[field] for field in awaitable_fields])
                raise
            if not awaitable_fields:
                return results

            async def get_results() -> dict[str, Any]:
                if len(awaitable_fields) == 1:
                    field = awaitable_fields[0]
                    results[field] = await results[field]
                else:
                    awaited = await gather_with_cancel(
                        *(results[field] for field in awaitable_fields)
                    )
                    results.update(zip(awaitable_fields, awaited, strict=True))
                return results

            return get_results()

        def subfield_steps(
            self,
            object_type: GraphQLObjectType,
            field_details_list: FieldDetailsList,
            position_context: Any,
        ) -> list[Step] | None:
            """The steps ``execute_subfields`` runs, or ``None`` when something is
            deferred (graphql-core's incremental path); by the type and the field
            details once per execution (as graphql-core's ``collect_subfields``)."""
            if position_context is not None or self.middleware_manager:
                return None
            key = (object_type, id(field_details_list))
            found = self._subfield_steps.get(key)
            if found is not None:
                return found[1]
            collected = self.collect_subfields(object_type, field_details_list)
            steps = (
                None
                if collected.new_defer_usages
                else self.field_steps(object_type, collected.grouped_field_set)
            )
            self._subfield_steps[key] = (field_details_list, steps)
            return steps

        def execute_subfields(
            self,
            object_type: GraphQLObjectType,
            field_details_list: FieldDetailsList,
            path: Path,
            value: Any,
            position_context: Any,
        ) -> Any:
            """graphql-core's ``collect_and_execute_subfields``, without its two calls
            when nothing is deferred (``execute_collected_subfields`` is then
            ``execute_fields``)."""
            collected = self.collect_subfields(object_type, field_details_list)
            if position_context is None and not collected.new_defer_usages:
                return self.execute_fields(
                    object_type, value, path, collected.grouped_field_set, None
                )
            return self.execute_collected_subfields(
                object_type, value, path, collected.grouped_field_set,
                collected.new_defer_usages, position_context,
            )  # fmt: skip

        def execute_plain_object(
            self,
            plan: PlainObject,
            parent_type: GraphQLObjectType,
            source: Any,
            field_details_list: FieldDetailsList,
            path: Path,
            position_context: Any,
        ) -> Any:
            """graphql-core's ``execute_field`` after the resolver, with shortcut 5."""
            return_type = plan.return_type
            try:
                result = plan.getter(source, plan.python_name)
                if type(result) not in SETTLED and self.is_awaitable(result):
                    pass  # graphql-core's path below
                elif not plan.is_list:
                    target = plan.target(result)
                    if target is not None:
                        completed = self.execute_subfields(
                            target, field_details_list, path, result, position_context
                        )
                        return self.awaited_field(completed, return_type, field_details_list, path)
                elif type(result) is list and not field_details_list[0].node.directives:
                    completed = self.complete_plain_list(
                        plan, parent_type, field_details_list, path, result, position_context
                    )
                    return self.awaited_field(completed, return_type, field_details_list, path)
                info = self.build_resolve_info(
                    plan.field_def, [d.node for d in field_details_list], parent_type, path
                )
                return self.complete_resolved(
                    return_type, field_details_list, info, path, result, position_context
                )
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, field_details_list, path)
                return None

        def complete_resolved(
            self, return_type: Any, field_details_list: FieldDetailsList,
            info: GraphQLResolveInfo[Any], path: Path, result: Any, position_context: Any,
        ) -> Any:  # fmt: skip
            """A resolved value completed as graphql-core's ``execute_field`` completes it
            (awaited first when it is awaitable); errors are the caller's to handle."""
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            completed = self.complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
            return self.awaited_field(completed, return_type, field_details_list, path)

        def awaited_field(
            self, completed: Any, return_type: Any, field_details_list: FieldDetailsList,
            path: Path,
        ) -> Any:  # fmt: skip
            """``completed``, or when awaitable, a coroutine settling it as graphql-core's
            ``execute_field`` does."""
            if type(completed) in SETTLED or not self.is_awaitable(completed):
                return completed

            async def await_completed() -> Any:
                try:
                    return await completed
                except Exception as raw_error:
                    self.handle_field_error(raw_error, return_type, field_details_list, path)
                    return None

            return await_completed()

        def complete_plain_list(
            self,
            plan: PlainObject,
            parent_type: GraphQLObjectType,
            field_details_list: FieldDetailsList,
            path: Path,
            items: list[Any],
            position_context: Any,
        ) -> Any:
            """graphql-core's ``complete_iterable_value`` (no ``@stream``), each item
            that ``plan`` takes (``target``) completed as ``complete_list_item_value``
            would."""
            is_awaitable = self.is_awaitable
            item_type = plan.item_type
            target_of = plan.target
            run_steps = self.run_steps
            completed_results: list[Any] = []
            append_completed = completed_results.append
            awaitable_indices: list[int] = []
            info = None
            # The items of one type share their sub-selections (graphql-core collects
            # them once per type and field details too): their steps are looked up
            # once per type here; ``None`` when something is deferred.
            last_target: GraphQLObjectType | None = None
            steps: list[Step] | None = None
            iterator = iter(items)
            index = 0
            try:
                for item in iterator:
                    item_path = path.add_key(index, None)
                    target = None if is_awaitable(item) else target_of(item)
                    if target is not None:
                        try:
                            if target is not last_target:
                                last_target, steps = (
                                    target,
                                    self.subfield_steps(
                                        target, field_details_list, position_context
                                    ),
                                )
                            if steps is not None:
                                completed = run_steps(
                                    target, item, item_path, steps, position_context
                                )
                            else:
                                completed = self.execute_subfields(
                                    target, field_details_list, item_path, item,
                                    position_context,
                                )  # fmt: skip
                            if type(completed) is not dict and is_awaitable(completed):
                                append_completed(
                                    self.awaited_field(
                                        completed, item_type, field_details_list, item_path
                                    )
                                )
                                awaitable_indices.append(index)
                            else:
                                append_completed(completed)
                        except Exception as raw_error:
                            self.handle_field_error(
                                raw_error, item_type, field_details_list, item_path
                            )
                            append_completed(None)
                    else:
                        if info is None:
                            info = self.build_resolve_info(
                                plan.field_def,
                                [d.node for d in field_details_list],
                                parent_type,
                                path,
                            )
                        if is_awaitable(item):
                            append_completed(
                                self.complete_awaitable_list_item_value(
                                    item,
                                    item_type,
                                    field_details_list,
                                    info,
                                    item_path,
                                    position_context,
                                )
                            )
                            awaitable_indices.append(index)
                        elif self.complete_list_item_value(
                            item, completed_results, item_type, field_details_list, info,
                            item_path, position_context,
                        ):  # fmt: skip
                            awaitable_indices.append(index)
                    index += 1
            except Exception:
                maybe_awaitables = [completed_results[i] for i in awaitable_indices]
                maybe_awaitables.extend(collect_iterator_awaitables(iterator, is_awaitable))
                if maybe_awaitables:
                    self.settle_in_background(maybe_awaitables)
                raise
            if not awaitable_indices:
                return completed_results

            async def get_completed_results() -> list[Any]:
                if len(awaitable_indices) == 1:
                    only = awaitable_indices[0]
                    completed_results[only] = await completed_results[only]
                else:
                    awaited = await gather_with_cancel(
                        *(completed_results[i] for i in awaitable_indices)
                    )
                    for i, sub_result in zip(awaitable_indices, awaited, strict=True):
                        completed_results[i] = sub_result
                return completed_results

            return get_completed_results()

        def complete_abstract_value(
            self,
            return_type: GraphQLAbstractType,
            field_details_list: FieldDetailsList,
            info: Any,
            path: Path,
            result: Any,
            position_context: Any,
        ) -> Any:
            try:
                members = unions[return_type]
            except KeyError:
                members = unions[return_type] = union_members(return_type)
            if members is not None and get_strawberry_type_cast(result) is None:
                member = members.get(id(getattr(result, "__strawberry_definition__", None)))
                if member is not None:
                    return self.complete_object_value(
                        member, field_details_list, info, path, result, position_context
                    )
            return super().complete_abstract_value(
                return_type, field_details_list, info, path, result, position_context
            )

        def complete_object_value(
            self,
            return_type: GraphQLObjectType,
            field_details_list: FieldDetailsList,
            info: Any,
            path: Path,
            result: Any,
            position_context: Any,
        ) -> Any:
            try:
                accepted = classes[return_type]
            except KeyError:
                accepted = classes[return_type] = own_classes(return_type)
            if (
                accepted is not None
                and get_strawberry_type_cast(result) is None
                and isinstance(result, accepted)
            ):
                return self.execute_subfields(
                    return_type, field_details_list, path, result, position_context
                )
            return super().complete_object_value(
                return_type, field_details_list, info, path, result, position_context
            )

        def get_stream_usage(self, field_details_list: FieldDetailsList, path: Path) -> Any:
            if not field_details_list[0].node.directives:
                return None
            return super().get_stream_usage(field_details_list, path)

        def collect_subfields(
            self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
        ) -> CollectedFields:
            memo = self._relevant_sub_fields  # graphql-core's, for this execution
            cached = memo.get((return_type, id(field_details_list)))
            if cached is not None:
                return cached[1]  # type: ignore[no-any-return]
            if self.operation.variable_definitions or not _plain_details(field_details_list):
                return super().collect_subfields(return_type, field_details_list)  # type: ignore[no-any-return]
            if len(field_details_list) == 1:
                key: tuple[Any, ...] = (
                    return_type,
                    self.hide_suggestions,
                    id(field_details_list[0].node),
                )
            else:
                key = (return_type, self.hide_suggestions, *map(id, to_nodes(field_details_list)))
            found = subfields.get(key)
            if found is not None:
                subfields.move_to_end(key)
                memo[(return_type, id(field_details_list))] = (field_details_list, found[1])
                return found[1]
            collected: CollectedFields = super().collect_subfields(return_type, field_details_list)
            if not collected.new_defer_usages and not collected.forbidden_directive_instances:
                # By the nodes' ids (a node hashes its whole subtree): the entry holds
                # the nodes alive, so their ids stay theirs.
                subfields[key] = (tuple(d.node for d in field_details_list), collected)
                if len(subfields) > SUBFIELDS_CACHED:
                    subfields.popitem(last=False)
            return collected

    PlannedExecutionContext.__name__ = PlannedExecutionContext.__qualname__ = (
        f"Planned{base.__name__}"
    )
    return PlannedExecutionContext
