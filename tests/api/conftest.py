"""The API tests share tests/api/test_api.py's world: 江岸区 and 武昌区 with a user and a
token per role."""

from tests.api.test_api import world  # noqa: F401  (a fixture, used by name)
