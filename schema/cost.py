"""Static analysis of a GraphQL document, before validation and execution: how deep it
goes, how many fields it can make the server resolve, what it costs, and how many times
each metered field can run.

One pass over the document, linear in its size: each fragment is analysed ONCE and its
summary reused at every spread (a document of fragments that each spread the next one
twice describes 2^20 fields in 1 KB; expanding it, as per-spread rules do, freezes the
server). Numbers are upper bounds computed from the document alone: list fields multiply
their selection by their page size (``first``/``last``/``limit``/``pageSize``, a list
argument's length, or the field's declared maximum), ``@skip``/``@include`` are ignored
(an upper bound), and aliases count separately (they execute separately).

The same analysis serves three callers: the limits that refuse a document before any
work (depth, fan-out, cost), the quota gate's reservation for metered fields anywhere in
the document (refunded down to what actually resolved), and ``extensions.cost``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)

PAGE_ARGUMENTS = ("first", "last", "limit", "pageSize", "page_size")
"""Arguments whose value is the number of items a list field answers."""


@dataclass(frozen=True, slots=True)
class FieldCost:
    """What resolving one field costs. ``cost`` is in points (the limit's unit);
    ``max_items`` bounds a list field that has no page argument; ``metered`` names the
    metering coordinate (``Song.url``) when the field costs plan units."""

    cost: int = 0
    max_items: int | None = None
    metered: str | None = None


@dataclass(frozen=True, slots=True)
class CostRules:
    """How fields are priced. Unlisted fields: an object (or list of objects) costs
    ``object_cost``, a scalar ``scalar_cost``; unlisted lists without a page argument
    are assumed ``default_list_size`` long; no multiplier exceeds ``max_list_size``."""

    fields: Mapping[str, FieldCost] = field(default_factory=dict)
    """By schema coordinate, ``Type.field`` (``Mutation.accountLogin``)."""
    object_cost: int = 1
    scalar_cost: int = 0
    default_list_size: int = 10
    max_list_size: int = 100

    def of(self, type_name: str, field_name: str) -> FieldCost | None:
        return self.fields.get(f"{type_name}.{field_name}")


@dataclass(frozen=True, slots=True)
class Summary:
    """An upper bound of what a selection (set) makes the server do."""

    cost: int = 0
    fields: int = 0
    depth: int = 0
    aliases: int = 0
    """Aliased fields, counted once per use (a fragment spread twice counts twice)."""
    metered: tuple[tuple[str, int], ...] = ()

    def plus(self, other: Summary) -> Summary:
        return Summary(
            cost=self.cost + other.cost,
            fields=self.fields + other.fields,
            depth=max(self.depth, other.depth),
            aliases=self.aliases + other.aliases,
            metered=_merge(self.metered, other.metered, 1),
        )

    def times(self, n: int) -> Summary:
        if n == 1:
            return self
        return Summary(
            cost=self.cost * n,
            fields=self.fields * n,
            depth=self.depth,
            aliases=self.aliases,
            metered=_merge((), self.metered, n),
        )


def _merge(
    a: tuple[tuple[str, int], ...], b: tuple[tuple[str, int], ...], factor: int
) -> tuple[tuple[str, int], ...]:
    if not b:
        return a
    counts = dict(a)
    for key, count in b:
        counts[key] = counts.get(key, 0) + count * factor
    return tuple(sorted(counts.items()))


EMPTY = Summary()


@dataclass(frozen=True, slots=True)
class DocumentShape:
    """Facts about the document's text itself (before fragments are expanded)."""

    field_nodes: int
    """Field selections written in the document."""
    largest_selection_set: int
    """The most selections written in one selection set (duplicates included)."""


@dataclass(frozen=True, slots=True)
class OperationCost:
    operation_type: str
    """``query``, ``mutation`` or ``subscription``."""
    cost: int
    fields: int
    depth: int
    aliases: int
    metered: Mapping[str, int]
    """Metering coordinate → how many times it can resolve, at most."""
    shape: DocumentShape


class AnalysisError(Exception):
    """The document cannot be analysed (a fragment cycle, an unknown operation)."""


class OperationNotChosen(AnalysisError):
    """Several operations and no ``operationName``: the HTTP request itself is incomplete,
    so GraphQL over HTTP answers 400 whatever the media type (``gateway.graphql_view``)."""


class _Analyser:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        rules: CostRules,
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.rules = rules
        self.variables = variables
        self.fragments: dict[str, FragmentDefinitionNode] = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._done: dict[tuple[str, int | None], Summary] = {}
        self._active: set[str] = set()
        self._variable_defaults: dict[str, Any] = {}
        self._connection_page: int | None = None
        """The page size of the connection being analysed (``search(first: 20)``): its
        list fields (``edges``, ``nodes``) are that long."""

    # -- selections ---------------------------------------------------------------------

    def selection_set(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None
    ) -> Summary:
        total = EMPTY
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = total.plus(self.field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total = total.plus(self.selection_set(selection.selection_set, inner))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.plus(self.fragment(selection.name.value))
        return total

    def fragment(self, name: str) -> Summary:
        # A fragment on a connection depends on the connection's page size.
        key = (name, self._connection_page)
        done = self._done.get(key)
        if done is not None:
            return done
        definition = self.fragments.get(name)
        if definition is None:
            return EMPTY  # validation reports the unknown fragment
        if name in self._active:
            raise AnalysisError(f"fragment {name!r} spreads itself")
        self._active.add(name)
        parent = self.schema.get_type(definition.type_condition.name.value)
        summary = self.selection_set(definition.selection_set, parent)
        self._active.discard(name)
        self._done[key] = summary
        return summary

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Summary:
        name = node.name.value
        if name.startswith("__"):
            return self._introspection(node, parent)
        definition = _field_of(parent, name)
        declared = self.rules.of(parent.name, name) if parent is not None else None
        inner_type = _named(definition.type) if definition is not None else None
        is_list = definition is not None and _is_list(definition.type)
        multiplier = self._multiplier(node, declared, definition) if is_list else 1
        inherited = self._connection_page
        # A connection (an object with a page argument) passes its page size to its lists.
        self._connection_page = (
            None if is_list or definition is None else self._page_argument(node, definition)
        )
        child = self.selection_set(node.selection_set, inner_type)
        self._connection_page = inherited
        own_cost = (
            declared.cost
            if declared is not None and declared.cost
            else (
                self.rules.object_cost if node.selection_set is not None else self.rules.scalar_cost
            )
        )
        metered: tuple[tuple[str, int], ...] = ()
        if declared is not None and declared.metered:
            metered = ((declared.metered, 1),)
        # The field resolves once; its items (a list) each resolve the child selection.
        return Summary(
            cost=own_cost,
            fields=1,
            depth=child.depth + 1,
            aliases=1 if node.alias is not None else 0,
            metered=metered,
        ).plus(_nested(child.times(multiplier)))

    def _introspection(self, node: FieldNode, parent: GraphQLNamedType | None) -> Summary:
        # Introspection answers describe the schema itself (bounded by its size): no
        # cost, no depth, no list multipliers; its fields still count towards fan-out.
        inner = self.selection_set(node.selection_set, None)
        return Summary(fields=1 + inner.fields)

    # -- list sizes -----------------------------------------------------------------------

    def _multiplier(
        self, node: FieldNode, declared: FieldCost | None, definition: GraphQLField | None = None
    ) -> int:
        cap = self.rules.max_list_size
        for argument in node.arguments or ():
            name = argument.name.value
            value = self._value(argument.value)
            if name in PAGE_ARGUMENTS and isinstance(value, int) and not isinstance(value, bool):
                return max(0, min(value, cap))
            if isinstance(value, list) and argument.name.value in ("ids", "keys"):
                return max(0, min(len(value), cap))
        page = self._page_argument(node, definition) if definition is not None else None
        if page is not None:
            return page
        if self._connection_page is not None:
            return min(self._connection_page, cap)
        if declared is not None and declared.max_items is not None:
            return min(declared.max_items, cap)
        return min(self.rules.default_list_size, cap)

    def _page_argument(self, node: FieldNode, definition: GraphQLField) -> int | None:
        """The page size a field is asked for: its page argument in the document, else
        that argument's default in the schema; ``None`` when it has none."""
        cap = self.rules.max_list_size
        given = {a.name.value: a for a in node.arguments or ()}
        for name in PAGE_ARGUMENTS:
            if name in given:
                value = self._value(given[name].value)
                if isinstance(value, int) and not isinstance(value, bool):
                    return max(0, min(value, cap))
                if name in definition.args:
                    return cap  # a variable without a value: the most it could be
            argument = definition.args.get(name)
            if argument is not None and isinstance(argument.default_value, int):
                return max(0, min(argument.default_value, cap))
        if any(name in definition.args for name in PAGE_ARGUMENTS):
            return cap  # issue 11: page arguments without defaults (keyset connections)
        return None

    def _value(self, value: Any) -> Any:
        if isinstance(value, IntValueNode):
            try:
                return int(value.value)
            except ValueError:
                return None
        if isinstance(value, VariableNode):
            name = value.name.value
            if name in self.variables:
                return self.variables[name]
            return self._variable_defaults.get(name)
        if isinstance(value, ListValueNode):
            return list(value.values)
        return None

    def operation(self, operation: OperationDefinitionNode) -> Summary:
        self._variable_defaults = {}
        for definition in operation.variable_definitions or ():
            if definition.default_value is not None:
                default = self._value(definition.default_value)
                self._variable_defaults[definition.variable.name.value] = default
        root = _root_type(self.schema, operation.operation)
        return self.selection_set(operation.selection_set, root)


def _nested(child: Summary) -> Summary:
    """The child's depth is already counted in the field's own summary."""
    return Summary(
        cost=child.cost, fields=child.fields, aliases=child.aliases, metered=child.metered
    )


def _root_type(schema: GraphQLSchema, operation: OperationType) -> GraphQLObjectType | None:
    if operation is OperationType.QUERY:
        return schema.query_type
    if operation is OperationType.MUTATION:
        return schema.mutation_type
    return schema.subscription_type


def _field_of(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None  # a union (only __typename is selectable on it directly), or unknown


def _unwrap(type_: GraphQLOutputType) -> Any:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return type_


def _is_list(type_: GraphQLOutputType) -> bool:
    return isinstance(_unwrap(type_), GraphQLList)


def _named(type_: GraphQLOutputType) -> GraphQLNamedType:
    current: Any = type_
    while isinstance(current, GraphQLNonNull | GraphQLList):
        current = current.of_type
    return current  # type: ignore[no-any-return]


def document_shape(document: DocumentNode) -> DocumentShape:
    """Counts of the written selections (linear; no fragment is expanded)."""
    field_nodes = 0
    largest = 0
    stack: list[SelectionSetNode] = []
    for definition in document.definitions:
        selection_set = getattr(definition, "selection_set", None)
        if isinstance(selection_set, SelectionSetNode):
            stack.append(selection_set)
    while stack:
        selection_set = stack.pop()
        largest = max(largest, len(selection_set.selections))
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field_nodes += 1
            inner = getattr(selection, "selection_set", None)
            if isinstance(inner, SelectionSetNode):
                stack.append(inner)
    return DocumentShape(field_nodes=field_nodes, largest_selection_set=largest)


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    """The operation to run: the named one, or the only one. Several operations without a
    name to choose is an error (graphql-core would silently pick none, strawberry the
    first)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) == 1:
            return operations[0]
        if not operations:
            raise AnalysisError("the document has no operation")
        raise OperationNotChosen("the document has several operations: name one (operationName)")
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    raise AnalysisError(f"no operation named {operation_name!r} in the document")


def analyse(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: CostRules,
    *,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> OperationCost:
    """Analyse the operation that would run. Raises ``AnalysisError``."""
    operation = select_operation(document, operation_name)
    analyser = _Analyser(schema, document, rules, variables or {})
    summary = analyser.operation(operation)
    return OperationCost(
        operation_type=operation.operation.value,
        cost=summary.cost,
        fields=summary.fields,
        depth=summary.depth,
        aliases=summary.aliases,
        metered=dict(summary.metered),
        shape=document_shape(document),
    )
