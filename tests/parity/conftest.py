from tests.api.conftest import api, backend, hibp  # noqa: F401  (shared fixtures)
