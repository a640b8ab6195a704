"""What the fast validation path takes from stix2-validator and jsonschema, without importing them.

Importing ``stix2validator`` imports ``jsonschema``, whose format module builds the IRI grammar
of ``rfc3987-syntax`` when that package is installed: 1.1 s of CPU, although no STIX 2.1
schema uses an IRI format. Every ``bayanihan`` command paid it at start-up, ``bayanihan ingest``
included. The fast path needs only data and three format checks, so it reads them here:

- the validator's enumerations (``v21/enums.py``, plain lists and dicts) from the file itself;
- its schema folder by location (``importlib.util.find_spec`` does not import the package);
- its timestamp expression (copied; ``tests/model/test_validator_source.py`` holds it equal);
- the functions the validator's format checker runs for the formats the STIX 2.1 schemas use:
  ``uri`` and ``idn-hostname`` as jsonschema chooses them, ``email`` as the validator replaces
  it (its own expression, copied); the same test holds their verdicts to the format checker
  the validator uses. Any other format is taken from jsonschema itself.

The validator proper is imported on first need (an object the fast path does not accept, an
indicator pattern outside the simple subset): :func:`oasis`.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["EMAIL_RE", "TIMESTAMP_FORMAT_RE", "enums", "format_function", "json_equal", "oasis",
           "package_root"]

#: ``stix2validator.v21.musts.TIMESTAMP_FORMAT_RE``.
TIMESTAMP_FORMAT_RE = re.compile(
    r"^[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):([0-5][0-9]):"
    r"([0-5][0-9]|60)(\.[0-9]+)?Z$"
)

#: A format check as jsonschema's FormatChecker holds it: the function and what it may raise
#: for "does not conform".
FormatFunction = tuple[Callable[[Any], Any], tuple[type[BaseException], ...]]


@cache
def package_root() -> Path:
    """The folder of the installed ``stix2validator`` package (not imported)."""
    spec = importlib.util.find_spec("stix2validator")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("stix2-validator is not installed")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


@cache
def enums() -> ModuleType:
    """``stix2validator.v21.enums``, executed from its file (it imports only csv, glob, os)."""
    path = package_root() / "v21" / "enums.py"
    spec = importlib.util.spec_from_file_location("bayanihan_stix2validator_v21_enums", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: ``stix2validator.validator.EMAIL_RE``: the validator replaces jsonschema's ``email`` check
#: (an ``@`` anywhere) with this expression when it is imported.
EMAIL_RE = re.compile(r"(^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$)")


def _is_email(instance: object) -> Any:
    return True if not isinstance(instance, str) else EMAIL_RE.match(instance)


def _is_idn_email(instance: object) -> bool:
    return not isinstance(instance, str) or "@" in instance


def _idn_hostname() -> FormatFunction:
    import idna

    def is_idn_host_name(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        idna.encode(instance)
        return True

    return is_idn_host_name, (idna.IDNAError, UnicodeError)


def _uri() -> FormatFunction | None:
    """jsonschema's ``uri`` check: ``rfc3987`` when installed, else ``rfc3986-validator``."""
    try:
        import rfc3987  # type: ignore[import-not-found]
    except ImportError:
        try:
            from rfc3986_validator import validate_rfc3986
        except ImportError:
            return None  # jsonschema then has no "uri" check either

        def is_uri(instance: object) -> Any:
            return True if not isinstance(instance, str) else validate_rfc3986(instance, rule="URI")

        return is_uri, ()

    def is_uri_3987(instance: object) -> Any:
        return True if not isinstance(instance, str) else rfc3987.parse(instance, rule="URI")

    return is_uri_3987, (ValueError,)


@cache
def format_function(name: str) -> FormatFunction | None:
    """The check the Draft 2020-12 format checker runs for ``name`` once stix2validator is
    imported (it replaces ``email``); None if it has none."""
    if name == "email":
        return _is_email, ()
    if name == "idn-email":
        return _is_idn_email, ()
    if name == "idn-hostname":
        try:
            return _idn_hostname()
        except ImportError:
            return None
    if name == "uri":
        return _uri()
    from jsonschema import Draft202012Validator  # any other format: jsonschema's own

    return Draft202012Validator.FORMAT_CHECKER.checkers.get(name)


_TRUE, _FALSE = object(), object()


def _unbool(value: Any) -> Any:
    return _TRUE if value is True else _FALSE if value is False else value


def json_equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema decides it for ``enum``/``const`` (``jsonschema._utils.equal``:
    ``true`` is not ``1``, also inside lists and objects)."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(json_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(
            key in two and json_equal(value, two[key]) for key, value in one.items())
    return bool(_unbool(one) == _unbool(two))


@cache
def oasis() -> tuple[Callable[..., Any], Any]:
    """``(stix2validator.validate_instance, options)``: the validator, STIX 2.1 forced."""
    from stix2validator import ValidationOptions, validate_instance

    return validate_instance, ValidationOptions(version="2.1")
