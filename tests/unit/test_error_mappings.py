"""Every domain error has exactly one mapping per edge."""

from __future__ import annotations

import importlib
import pkgutil

import domain
from domain.errors import Conflict, DomainError, all_error_classes
from rest.errors import ERROR_TABLE, HttpError, http_error
from schema.errors import REQUEST_CODES, ErrorCode


def _import_all_domain_modules() -> None:
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)


def test_every_domain_error_has_a_rest_and_a_graphql_mapping() -> None:
    _import_all_domain_modules()
    classes = all_error_classes()
    assert len(classes) > 10
    for cls in classes:
        assert cls.code in ERROR_TABLE, f"{cls.__name__} ({cls.code}) has no /v1 mapping"
        assert cls.code in ErrorCode.__members__, f"{cls.__name__} has no GraphQL ErrorCode"


def test_no_mapping_names_an_unknown_code() -> None:
    _import_all_domain_modules()
    codes = {cls.code for cls in all_error_classes()}
    assert set(ERROR_TABLE) == codes
    # issue 11: plus the request codes no domain error has (transport, GraphQL's own)
    assert set(ErrorCode.__members__) == codes | set(REQUEST_CODES)
    assert not codes & set(REQUEST_CODES)


def test_codes_are_unique_per_class_meaning() -> None:
    _import_all_domain_modules()
    seen: dict[str, type[DomainError]] = {}
    for cls in all_error_classes():
        other = seen.setdefault(cls.code, cls)
        assert other is cls, f"{cls.__name__} reuses the code of {other.__name__}"


def test_an_error_without_a_status_of_its_own_answers_as_its_base() -> None:
    class ExampleTaken(Conflict):
        code = "EXAMPLE_TAKEN"

    class ExampleGone(ExampleTaken):
        code = "EXAMPLE_GONE"
        http_status = 410
        failed_precondition = True

    assert http_error(ExampleTaken()) == HttpError(409, 40900, 6)
    assert http_error(ExampleGone()) == HttpError(410, 41000, 9)
    assert ExampleTaken not in all_error_classes()  # only the domain's errors are mapped


def test_every_table_row_is_what_its_class_declares() -> None:
    _import_all_domain_modules()
    for cls in all_error_classes():
        mapped = ERROR_TABLE[cls.code]
        assert mapped.status == cls.http_status, cls.__name__
        error = cls.__new__(cls)  # the mapping depends on the class alone
        assert http_error(error) == mapped, cls.__name__
