"""perf (issue 18): graphql-core's executor with two shortcuts that give the same results
for less CPU, and its standard path for everything else.

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

Fields with resolvers, other completions, errors, null propagation,
``@stream``/``@defer``, middleware and mutations' serial execution are graphql-core's.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, cast

from graphql import (
    GraphQLAbstractType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    is_leaf_type,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetailsList
from graphql.execution.executor import collect_iterator_awaitables
from graphql.pyutils import Path, Undefined, inspect
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from strawberry.types.cast import get_strawberry_type_cast

BASIC_RESOLVER = "_get_basic_result"
"""The name of strawberry's resolver for a basic field (``schema_converter.from_resolver``)."""

DEFINITION = "strawberry-definition"
"""Where strawberry keeps a GraphQL type's definition (``GraphQLCoreConverter``)."""

UNION_RESOLVER = "StrawberryUnion.get_type_resolver.<locals>._resolve_union_type"
IS_TYPE_OF = "GraphQLCoreConverter.from_object.<locals>._get_is_type_of.<locals>.is_type_of"
"""The qualified names of strawberry's union ``resolve_type`` and object ``is_type_of``."""

SUBFIELDS_CACHED = 4096
"""Collected sub-selections kept across requests (least recently used dropped)."""


class PlainLeaf:
    """What reading one basic leaf field needs."""

    __slots__ = ("getter", "leaf", "message", "name", "non_null", "python_name", "return_type")

    def __init__(self, parent: GraphQLObjectType, name: str, return_type: Any, field: Any) -> None:
        self.name = name
        self.return_type = return_type
        self.non_null = isinstance(return_type, GraphQLNonNull)
        self.leaf: GraphQLLeafType = return_type.of_type if self.non_null else return_type
        self.getter = field.default_resolver
        self.python_name: str = field.python_name
        self.message = f"Cannot return null for non-nullable field {parent}.{name}."


class PlainObject:
    """What reading one basic object or list-of-object field needs (shortcut 5)."""

    __slots__ = (
        "accepted", "field_def", "getter", "is_list", "item_type", "object_type",
        "python_name", "return_type",
    )  # fmt: skip

    def __init__(
        self, field_def: GraphQLField, field: Any, object_type: GraphQLObjectType,
        item_type: Any, accepted: tuple[type, ...] | None,
    ) -> None:  # fmt: skip
        self.field_def = field_def
        self.return_type = field_def.type
        self.getter = field.default_resolver
        self.python_name: str = field.python_name
        self.is_list = item_type is not None
        self.item_type = item_type
        self.object_type = object_type
        self.accepted = accepted

    def accepts(self, value: Any) -> bool:
        """Whether graphql-core would take ``value`` straight to its sub-selections."""
        if isinstance(value, Exception):
            return False
        accepted = self.accepted
        if accepted is None:
            return value is not None and value is not Undefined
        return get_strawberry_type_cast(value) is None and isinstance(value, accepted)


def _unwrapped(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def plain_object(field_def: GraphQLField, field: Any) -> PlainObject | None:
    inner = _unwrapped(field_def.type)
    item_type = None
    if isinstance(inner, GraphQLList):
        item_type = inner.of_type
        inner = _unwrapped(item_type)
    if not isinstance(inner, GraphQLObjectType):
        return None
    accepted = own_classes(inner)
    if inner.is_type_of is not None and accepted is None:
        return None
    return PlainObject(field_def, field, inner, item_type, accepted)


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


def planned_context_class(base: type[Any]) -> type[Any]:
    """``base`` (strawberry's execution context class) with the shortcuts above; one
    class per schema, holding that schema's plans."""

    plans: dict[tuple[GraphQLObjectType, str], PlainLeaf | PlainObject | None] = {}
    subfields: OrderedDict[tuple[Any, ...], tuple[Any, CollectedFields]] = OrderedDict()
    unions: dict[GraphQLAbstractType, dict[int, GraphQLObjectType] | None] = {}
    classes: dict[GraphQLObjectType, tuple[type, ...] | None] = {}

    class PlannedExecutionContext(base):  # type: ignore[misc]
        def execute_field(
            self,
            parent_type: GraphQLObjectType,
            source: Any,
            field_details_list: FieldDetailsList,
            path: Path,
            position_context: Any,
        ) -> Any:
            node = field_details_list[0].node
            key = (parent_type, node.name.value)
            try:
                plan = plans[key]
            except KeyError:
                plan = plans[key] = plain_field(self.schema, parent_type, node.name.value)
            if plan is None or node.arguments or self.middleware_manager:
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
                        f"Expected `{inspect(leaf)}.coerce_output_value("
                        f"{inspect(result)})` to return non-nullable value, returned:"
                        f" {inspect(coerced)}"
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
            """graphql-core's ``execute_fields``, a plain leaf whose value is read and
            coerced without trouble (shortcut 7) taking no ``Path`` and no call."""
            if self.middleware_manager:
                return super().execute_fields(
                    parent_type, source_value, path, grouped_field_set, position_context
                )
            results: dict[str, Any] = {}
            is_awaitable = self.is_awaitable
            awaitable_fields: list[str] = []
            parent_name = parent_type.name
            try:
                for response_name, field_details_list in grouped_field_set.items():
                    node = field_details_list[0].node
                    key = (parent_type, node.name.value)
                    try:
                        plan = plans[key]
                    except KeyError:
                        plan = plans[key] = plain_field(self.schema, parent_type, key[1])
                    if type(plan) is PlainLeaf and not node.arguments:
                        try:
                            value = plan.getter(source_value, plan.python_name)
                        except Exception as raw_error:
                            self.handle_field_error(
                                raw_error,
                                plan.return_type,
                                field_details_list,
                                Path(path, response_name, parent_name),
                            )
                            results[response_name] = None
                            continue
                        if (
                            value is not None
                            and value is not Undefined
                            and not is_awaitable(value)
                            and not isinstance(value, Exception)
                        ):
                            try:
                                coerced = plan.leaf.coerce_output_value(value)
                            except Exception:
                                coerced = None  # coerced again below, to the same error
                            if coerced is not None and coerced is not Undefined:
                                results[response_name] = coerced
                                continue
                        result = self.complete_plain_leaf(
                            plan,
                            parent_type,
                            field_details_list,
                            Path(path, response_name, parent_name),
                            position_context,
                            value,
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
                        if is_awaitable(result):
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
                if self.is_awaitable(result):
                    completed = None  # graphql-core's path below
                elif not plan.is_list:
                    if plan.accepts(result):
                        completed = self.collect_and_execute_subfields(
                            plan.object_type, field_details_list, path, result, position_context
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
                if self.is_awaitable(result):
                    return self.complete_awaitable_value(
                        return_type, field_details_list, info, path, result, position_context
                    )
                completed = self.complete_value(
                    return_type, field_details_list, info, path, result, position_context
                )
                return self.awaited_field(completed, return_type, field_details_list, path)
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, field_details_list, path)
                return None

        def awaited_field(
            self, completed: Any, return_type: Any, field_details_list: FieldDetailsList,
            path: Path,
        ) -> Any:  # fmt: skip
            """``completed``, or when awaitable, a coroutine settling it as graphql-core's
            ``execute_field`` does."""
            if not self.is_awaitable(completed):
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
            that ``plan`` accepts completed as ``complete_list_item_value`` would."""
            is_awaitable = self.is_awaitable
            item_type = plan.item_type
            object_type = plan.object_type
            accepts = plan.accepts
            completed_results: list[Any] = []
            append_completed = completed_results.append
            awaitable_indices: list[int] = []
            info = None
            iterator = iter(items)
            index = 0
            try:
                for item in iterator:
                    item_path = path.add_key(index, None)
                    if not is_awaitable(item) and accepts(item):
                        try:
                            completed = self.collect_and_execute_subfields(
                                object_type, field_details_list, item_path, item, position_context
                            )
                            if is_awaitable(completed):
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
                return self.collect_and_execute_subfields(
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
                return cast(CollectedFields, cached[1])
            if self.operation.variable_definitions or any(
                details.defer_usage is not None or details.fragment_variable_values
                for details in field_details_list
            ):
                return cast(
                    CollectedFields, super().collect_subfields(return_type, field_details_list)
                )
            key = (return_type, self.hide_suggestions, *[id(d.node) for d in field_details_list])
            found = subfields.get(key)
            if found is not None:
                subfields.move_to_end(key)
                memo[(return_type, id(field_details_list))] = (field_details_list, found[1])
                return found[1]
            collected = cast(
                CollectedFields, super().collect_subfields(return_type, field_details_list)
            )
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
