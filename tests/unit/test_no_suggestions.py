"""Issue 12, item 6: in production (``field_suggestions=False``) no error suggests anything:
not fields, types, arguments, enum values nor input fields. In dev they stay."""

from __future__ import annotations

import pytest

from schema.build import build_schema

DOCUMENTS = [
    ("field", "{ viewr { id } }", None),
    ("type", "query($f: AdminUserFiltr) { __typename }", None),
    ("argument", "{ adminUsers(frist: 1) { totalCount } }", None),
    ("enum literal", "{ adminUsers(filter: {role: ADMN}) { totalCount } }", None),
    ("input field literal", "{ adminUsers(filter: {emial: \"x\"}) { totalCount } }", None),
    ("enum variable", "query($f: AdminUserFilter) { adminUsers(filter: $f) { totalCount } }",
     {"f": {"role": "ADMN"}}),
    ("input field variable",
     "query($f: AdminUserFilter) { adminUsers(filter: $f) { totalCount } }",
     {"f": {"emial": "x"}}),
]  # fmt: skip


@pytest.mark.parametrize(("query", "variables"), [d[1:] for d in DOCUMENTS],
                         ids=[d[0] for d in DOCUMENTS])  # fmt: skip
async def test_prod_suggests_nothing(query: str, variables: dict[str, object] | None) -> None:
    dev = await build_schema(field_suggestions=True).execute(query, variable_values=variables)
    assert dev.errors and any("Did you mean" in e.message for e in dev.errors), dev.errors
    prod = await build_schema(field_suggestions=False).execute(query, variable_values=variables)
    assert prod.errors, prod
    assert not [e.message for e in prod.errors if "Did you mean" in e.message], prod.errors
