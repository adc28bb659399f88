"""Label selectors and the name/label syntax rules of the Kubernetes API.

Two halves:

* **Syntax rules** (apimachinery ``pkg/util/validation/validation.go`` and
  ``pkg/api/validate/content``): ``is_qualified_name``, ``is_valid_label_value``,
  ``is_dns1123_label``, ``is_dns1123_subdomain``, ``is_dns1035_label``, ``is_valid_port_name``,
  ``is_valid_percent``, ``is_valid_port_num``.  Each returns a tuple of error detail strings
  worded exactly as apimachinery words them (empty when the value is valid).  Results are
  memoised: the same label keys and values are checked on every API write, so after the first
  time a check is one dictionary lookup.  The wording follows Kubernetes v1.35+, where label
  keys and values report lengths in *bytes* (``must be no more than 63 bytes``) and a key with
  two slashes is described as "a valid label key"; DNS names still say *characters*.
* **Selectors** (apimachinery ``pkg/labels/selector.go``): an immutable :class:`Selector` made
  of :class:`Requirement` s, the string parser kubectl uses for ``-l``
  (:func:`parse_selector`), and the two conversions the controllers use
  (:func:`selector_from_set` for a Service's ``spec.selector``,
  :func:`selector_from_label_selector` for ``metav1.LabelSelectorAsSelector``).

>>> s = parse_selector("tier in (web,api), app=nginx, !canary")
>>> str(s)
'app=nginx,!canary,tier in (api,web)'
>>> s.matches({"app": "nginx", "tier": "web"})
True
>>> is_dns1035_label("Web")[0][:40]
'a DNS-1035 label must consist of lower c'
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence

from kubesim.errors import InvalidSelector
from kubesim.objects import LabelSelector

__all__ = [
    "Requirement",
    "Selector",
    "parse_selector",
    "selector_from_set",
    "selector_from_label_selector",
    "is_qualified_name",
    "is_valid_label_value",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_dns1035_label",
    "is_valid_port_name",
    "is_valid_port_num",
    "is_valid_percent",
    "mask_trailing_dash",
    "OPERATORS",
]

# --------------------------------------------------------------------------------------------
# syntax rules (apimachinery pkg/util/validation, pkg/api/validate/content)

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = "(" + _LABEL_KEY_FMT + ")?"
_PERCENT_FMT = "[0-9]+%"

# Go's regexp has no "$ before a trailing newline" quirk: always use fullmatch.
_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL_FMT, re.ASCII)
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT, re.ASCII)
_DNS1035_LABEL_RE = re.compile(_DNS1035_LABEL_FMT, re.ASCII)
_LABEL_KEY_RE = re.compile(_LABEL_KEY_FMT, re.ASCII)
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT, re.ASCII)
_PERCENT_RE = re.compile(_PERCENT_FMT, re.ASCII)
_PORT_NAME_CHARSET_RE = re.compile("[-a-z0-9]+", re.ASCII)
_PORT_NAME_ONE_LETTER_RE = re.compile("[a-z]", re.ASCII)

_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character"
)
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character"
)
_LABEL_KEY_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character"
)
_PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%'"

_CACHE = 16384


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    # apimachinery RegexError
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    ex = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {ex}regex used for validation is '{fmt}')"


def _nbytes(value: str) -> int:
    # Go's len() counts UTF-8 bytes.
    return len(value) if value.isascii() else len(value.encode("utf-8"))


def _max_len_chars(n: int) -> str:
    return f"must be no more than {n} characters"


def _max_len_bytes(n: int) -> str:
    return f"must be no more than {n} bytes"


_DNS1123_LABEL_REGEX_ERR = _regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc")
_DNS1123_SUBDOMAIN_REGEX_ERR = _regex_error(
    _DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"
)
_DNS1035_REGEX_ERR = _regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT, "my-name", "abc-123")
_LABEL_KEY_REGEX_ERR = _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
_LABEL_VALUE_REGEX_ERR = _regex_error(
    _LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"
)
_PERCENT_REGEX_ERR = _regex_error(_PERCENT_MSG, _PERCENT_FMT, "1%", "93%")


@functools.lru_cache(maxsize=_CACHE)
def is_dns1123_label(value: str) -> tuple[str, ...]:
    """RFC 1123 label (``IsDNS1123Label``): at most 63 characters of ``[-a-z0-9]``, alphanumeric
    at both ends. ``O(len)``, memoised.

    >>> is_dns1123_label("my-name")
    ()
    >>> is_dns1123_label("a.b")
    ('must not contain dots',)
    """
    errs: list[str] = []
    if _nbytes(value) > 63:
        errs.append(_max_len_chars(63))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        if _DNS1123_SUBDOMAIN_RE.fullmatch(value):
            errs.append("must not contain dots")
        else:
            errs.append(_DNS1123_LABEL_REGEX_ERR)
    return tuple(errs)


@functools.lru_cache(maxsize=_CACHE)
def is_dns1123_subdomain(value: str) -> tuple[str, ...]:
    """RFC 1123 subdomain (``IsDNS1123Subdomain``): at most 253 characters, dot-separated
    labels. ``O(len)``, memoised."""
    errs: list[str] = []
    if _nbytes(value) > 253:
        errs.append(_max_len_chars(253))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_DNS1123_SUBDOMAIN_REGEX_ERR)
    return tuple(errs)


def _content_dns1123_subdomain(value: str) -> list[str]:
    # The v1.35 ``content`` package copy used for label-key prefixes: lengths in bytes.
    errs: list[str] = []
    if _nbytes(value) > 253:
        errs.append(_max_len_bytes(253))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_DNS1123_SUBDOMAIN_REGEX_ERR)
    return errs


@functools.lru_cache(maxsize=_CACHE)
def is_dns1035_label(value: str) -> tuple[str, ...]:
    """RFC 1035 label (``IsDNS1035Label``), the rule for Service names: starts with a letter.
    ``O(len)``, memoised."""
    errs: list[str] = []
    if _nbytes(value) > 63:
        errs.append(_max_len_chars(63))
    if not _DNS1035_LABEL_RE.fullmatch(value):
        errs.append(_DNS1035_REGEX_ERR)
    return tuple(errs)


@functools.lru_cache(maxsize=_CACHE)
def is_qualified_name(value: str) -> tuple[str, ...]:
    """A label key / "qualified name" (``content.IsLabelKey``): optional DNS-subdomain prefix and
    ``/``, then a name of at most 63 bytes. ``O(len)``, memoised.

    >>> is_qualified_name("example.com/app")
    ()
    >>> is_qualified_name("/app")
    ('prefix part must be non-empty',)
    """
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in _content_dns1123_subdomain(prefix))
    else:
        return (
            "a valid label key "
            + _LABEL_KEY_REGEX_ERR
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        )
    if not name:
        errs.append("name part must be non-empty")
    elif _nbytes(name) > 63:
        errs.append("name part " + _max_len_bytes(63))
    if not _LABEL_KEY_RE.fullmatch(name):
        errs.append("name part " + _LABEL_KEY_REGEX_ERR)
    return tuple(errs)


@functools.lru_cache(maxsize=_CACHE)
def is_valid_label_value(value: str) -> tuple[str, ...]:
    """A label value (``content.IsLabelValue``): empty, or at most 63 bytes of
    ``[-A-Za-z0-9_.]`` with alphanumerics at both ends. ``O(len)``, memoised."""
    errs: list[str] = []
    if _nbytes(value) > 63:
        errs.append(_max_len_bytes(63))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(_LABEL_VALUE_REGEX_ERR)
    return tuple(errs)


@functools.lru_cache(maxsize=_CACHE)
def is_valid_port_name(port: str) -> tuple[str, ...]:
    """An IANA_SVC_NAME (``IsValidPortName``): 1-15 characters of ``[-a-z0-9]``, at least one
    letter, no leading/trailing/double hyphen. ``O(len)``, memoised.

    >>> is_valid_port_name("http")
    ()
    >>> is_valid_port_name("8080")
    ('must contain at least one letter (a-z)',)
    """
    errs: list[str] = []
    if _nbytes(port) > 15:
        errs.append(_max_len_chars(15))
    if not _PORT_NAME_CHARSET_RE.fullmatch(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_ONE_LETTER_RE.search(port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return tuple(errs)


def is_valid_port_num(port: int) -> tuple[str, ...]:
    """A non-zero port number (``IsValidPortNum``). ``O(1)``."""
    if 1 <= port <= 65535:
        return ()
    return ("must be between 1 and 65535, inclusive",)


def is_valid_percent(value: str) -> tuple[str, ...]:
    """``"25%"``-style percentages (``IsValidPercent``). ``O(len)``."""
    if _PERCENT_RE.fullmatch(value):
        return ()
    return (_PERCENT_REGEX_ERR,)


def mask_trailing_dash(name: str) -> str:
    """apimachinery ``maskTrailingDash``: how a ``generateName`` prefix is checked (a trailing
    ``-`` is allowed because random characters follow). Mirrors upstream exactly, including
    that it replaces the last *two* characters with ``a``."""
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


# --------------------------------------------------------------------------------------------
# requirements and selectors (apimachinery pkg/labels/selector.go)

#: Operator spellings, as ``selection.Operator`` spells them.
OPERATORS: tuple[str, ...] = ("in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!")
_BINARY_OPERATORS = ("in", "notin", "=", "==", "!=", "gt", "lt")
_SET_OPS = frozenset({"in", "notin"})


def _go_quote(s: str) -> str:
    # Go %q for the strings that reach error messages (ASCII in practice).
    return json.dumps(s, ensure_ascii=False)


def _go_int(s: str) -> int | None:
    # strconv.ParseInt(s, 10, 64)
    body = s[1:] if s[:1] in "+-" else s
    if not body or not body.isdigit() or not body.isascii():
        return None
    v = int(s, 10)
    if not -(2**63) <= v < 2**63:
        return None
    return v


def _join_errors(errs: Sequence[str]) -> str:
    # utilerrors.NewAggregate(...).Error(): one message bare, several in brackets, deduplicated.
    seen: list[str] = []
    for e in errs:
        if e not in seen:
            seen.append(e)
    return seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"


class Requirement:
    """One ``key <op> values`` term. Immutable and hashable.

    ``values`` of ``in``/``notin`` are kept sorted and de-duplicated (upstream keeps them as
    given but prints them sorted; only the order of the internal slice differs).  Construct with
    :meth:`new` to get apimachinery's validation, or directly for pre-validated data.
    ``matches`` is ``O(len(values))``, usually ``O(1)``.
    """

    __slots__ = ("key", "operator", "values", "_vset", "_hash")

    key: str
    operator: str
    values: tuple[str, ...]
    _vset: frozenset[str] | None
    _hash: int

    def __init__(self, key: str, operator: str, values: Iterable[str] = ()) -> None:
        vals = tuple(values)
        if operator in _SET_OPS:
            vals = tuple(sorted(set(vals)))
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "operator", operator)
        object.__setattr__(self, "values", vals)
        object.__setattr__(self, "_vset", frozenset(vals) if len(vals) > 4 else None)
        object.__setattr__(self, "_hash", hash((key, operator, vals)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Requirement is immutable")

    @classmethod
    def new(cls, key: str, operator: str, values: Sequence[str] = (), *, values_json: str | None = None) -> Requirement:
        """``labels.NewRequirement``: validate and build; raises :class:`InvalidSelector` with
        apimachinery's aggregated message. ``O(len(values))``."""
        errs: list[str] = []
        kerrs = is_qualified_name(key)
        if kerrs:
            errs.append(f"key: Invalid value: {_go_quote(key)}: " + "; ".join(kerrs))
        vj = values_json if values_json is not None else json.dumps(list(values), separators=(",", ":"))
        if operator in _SET_OPS:
            if not values:
                errs.append(f"values: Invalid value: {vj}: for 'in', 'notin' operators, values set can't be empty")
        elif operator in ("=", "==", "!="):
            if len(values) != 1:
                errs.append(f"values: Invalid value: {vj}: exact-match compatibility requires one single value")
        elif operator in ("exists", "!"):
            if values:
                errs.append(f"values: Invalid value: {vj}: values set must be empty for exists and does not exist")
        elif operator in ("gt", "lt"):
            if len(values) != 1:
                errs.append(f"values: Invalid value: {vj}: for 'Gt', 'Lt' operators, exactly one value is required")
            for i, v in enumerate(values):
                if _go_int(v) is None:
                    errs.append(
                        f"values[{i}]: Invalid value: {_go_quote(v)}: for 'Gt', 'Lt' operators, the value must be an integer"
                    )
        else:
            supported = ", ".join(_go_quote(o) for o in OPERATORS)
            errs.append(f"operator: Unsupported value: {_go_quote(operator)}: supported values: {supported}")
        for i, v in enumerate(values):
            verrs = is_valid_label_value(v)
            if verrs:
                errs.append(f"values[{i}][{key}]: Invalid value: {_go_quote(v)}: " + "; ".join(verrs))
        if errs:
            raise InvalidSelector(_join_errors(errs))
        return cls(key, operator, values)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """``Requirement.Matches``. ``O(1)`` for exact match; ``O(len(values))`` at worst."""
        op = self.operator
        if op == "=" or op == "==" or op == "in":
            val = labels.get(self.key)
            if val is None:
                return False
            return self._has(val)
        if op == "!=" or op == "notin":
            val = labels.get(self.key)
            if val is None:
                return True
            return not self._has(val)
        if op == "exists":
            return self.key in labels
        if op == "!":
            return self.key not in labels
        if op == "gt" or op == "lt":
            val = labels.get(self.key)
            if val is None or len(self.values) != 1:
                return False
            lv, rv = _go_int(val), _go_int(self.values[0])
            if lv is None or rv is None:
                return False
            return lv > rv if op == "gt" else lv < rv
        return False

    def _has(self, value: str) -> bool:
        vs = self._vset
        if vs is not None:
            return value in vs
        return value in self.values

    def __str__(self) -> str:
        op = self.operator
        if op == "!":
            return "!" + self.key
        if op == "exists":
            return self.key
        vals = ",".join(self.values) if len(self.values) != 1 else self.values[0]
        if op in _SET_OPS:
            return f"{self.key} {op} ({','.join(self.values)})"
        sym = {"gt": ">", "lt": "<"}.get(op, op)
        return f"{self.key}{sym}{vals}"

    def __repr__(self) -> str:
        return f"Requirement({self.key!r}, {self.operator!r}, {self.values!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Requirement):
            return NotImplemented
        return (self.key, self.operator, self.values) == (other.key, other.operator, other.values)

    def __hash__(self) -> int:
        return self._hash


class Selector:
    """An immutable label selector: the AND of its requirements (sorted by key, stably).

    Two distinguished selectors: :meth:`everything` (no requirements; ``empty`` is true) and
    :meth:`nothing` (matches no labels; prints as ``""`` like upstream's ``labels.Nothing()``).

    * ``matches(labels)`` — ``O(requirements)``;
    * ``str(selector)`` — the canonical string (``kubectl`` form), ``O(size)``;
    * ``requires_exact_match(key)`` — the value an ``=``/``==``/single ``in`` pins, ``O(r)``;
    * ``add(*requirements)`` — a new selector, ``O(r log r)``;
    * hashable and comparable; the repr is valid Python.
    """

    __slots__ = ("_reqs", "_nothing", "_hash")

    def __init__(self, requirements: Iterable[Requirement] = (), *, _nothing: bool = False) -> None:
        reqs = tuple(sorted(requirements, key=lambda r: r.key))
        self._reqs: tuple[Requirement, ...] = reqs
        self._nothing = _nothing
        self._hash = hash((_nothing, reqs))

    @classmethod
    def everything(cls) -> Selector:
        """The selector that matches every label set. ``O(1)``."""
        return _EVERYTHING

    @classmethod
    def nothing(cls) -> Selector:
        """The selector that matches no label set. ``O(1)``."""
        return _NOTHING

    @classmethod
    def parse(cls, text: str) -> Selector:
        """Same as :func:`parse_selector`."""
        return parse_selector(text)

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        """The requirements, sorted by key."""
        return self._reqs

    @property
    def empty(self) -> bool:
        """``True`` iff the selector does not restrict (``Empty()``); ``False`` for nothing."""
        return not self._nothing and not self._reqs

    @property
    def is_nothing(self) -> bool:
        """``True`` for :meth:`nothing` (``labels.MatchesNothing``)."""
        return self._nothing

    def matches(self, labels: Mapping[str, str]) -> bool:
        """``True`` iff every requirement matches ``labels``. ``O(requirements)``."""
        if self._nothing:
            return False
        for r in self._reqs:
            if not r.matches(labels):
                return False
        return True

    def add(self, *requirements: Requirement) -> Selector:
        """A new selector with ``requirements`` added (nothing stays nothing)."""
        if self._nothing:
            return self
        return Selector(self._reqs + requirements)

    def requires_exact_match(self, key: str) -> str | None:
        """The single value ``key`` must have, or ``None`` (``RequiresExactMatch``)."""
        for r in self._reqs:
            if r.key == key:
                if r.operator in ("=", "==", "in") and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self._reqs)

    def __repr__(self) -> str:
        if self._nothing:
            return "Selector.nothing()"
        if not self._reqs:
            return "Selector.everything()"
        text = str(self)
        try:
            if parse_selector(text) == self:
                return f"Selector.parse({text!r})"
        except InvalidSelector:
            pass
        return f"Selector([{', '.join(repr(r) for r in self._reqs)}])"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Selector):
            return NotImplemented
        return self._nothing == other._nothing and self._reqs == other._reqs

    def __hash__(self) -> int:
        return self._hash

    def __bool__(self) -> bool:
        return True


_EVERYTHING = Selector()
_NOTHING = Selector(_nothing=True)


# --------------------------------------------------------------------------------------------
# the string parser (lexer + recursive descent, as in selector.go)

_END, _CLOSE, _COMMA, _NOT, _DEQ, _EQ, _GT, _IDENT, _IN, _LT, _NEQ, _NOTIN, _OPEN, _ERROR = range(14)
_STRING2TOKEN = {
    ")": _CLOSE,
    ",": _COMMA,
    "!": _NOT,
    "==": _DEQ,
    "=": _EQ,
    ">": _GT,
    "in": _IN,
    "<": _LT,
    "!=": _NEQ,
    "notin": _NOTIN,
    "(": _OPEN,
}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")


def _lex(text: str) -> list[tuple[int, str]]:
    # A NUL byte ends the input, as Go's lexer reads byte 0 as end-of-string.
    nul = text.find("\x00")
    if nul >= 0:
        text = text[:nul]
    items: list[tuple[int, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _WHITESPACE:
            i += 1
        if i >= n:
            items.append((_END, ""))
            return items
        ch = text[i]
        if ch in _SPECIAL:
            buf = ""
            last: tuple[int, str] | None = None
            while i < n and text[i] in _SPECIAL:
                buf += text[i]
                tok = _STRING2TOKEN.get(buf)
                if tok is not None:
                    last = (tok, buf)
                    i += 1
                elif last is not None:
                    break
                else:
                    i += 1
            if last is None:  # pragma: no cover - every single special char is a token
                items.append((_ERROR, f"error expected: keyword found '{buf}'"))
            else:
                items.append(last)
        else:
            j = i
            while j < n and text[j] not in _SPECIAL and text[j] not in _WHITESPACE:
                j += 1
            word = text[i:j]
            i = j
            items.append((_STRING2TOKEN.get(word, _IDENT), word))


class _Parser:
    __slots__ = ("items", "pos")

    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.pos = 0

    def lookahead(self, values: bool) -> tuple[int, str]:
        tok, lit = self.items[self.pos]
        if values and tok in (_IN, _NOTIN):
            tok = _IDENT
        return tok, lit

    def consume(self, values: bool) -> tuple[int, str]:
        tok, lit = self.items[self.pos]
        self.pos += 1
        if values and tok in (_IN, _NOTIN):
            tok = _IDENT
        return tok, lit

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self.lookahead(True)
            if tok in (_IDENT, _NOT):
                try:
                    r = self.parse_requirement()
                except InvalidSelector as e:
                    raise InvalidSelector(f"unable to parse requirement: {e}") from None
                reqs.append(r)
                t, lit = self.consume(True)
                if t == _END:
                    return reqs
                if t == _COMMA:
                    t2, l2 = self.lookahead(True)
                    if t2 not in (_IDENT, _NOT):
                        raise InvalidSelector(f"found '{l2}', expected: identifier after ','")
                else:
                    raise InvalidSelector(f"found '{lit}', expected: ',' or 'end of string'")
            elif tok == _END:
                return reqs
            else:
                raise InvalidSelector(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> Requirement:
        operator = ""
        tok, lit = self.consume(True)
        if tok == _NOT:
            operator = "!"
            tok, lit = self.consume(True)
        if tok != _IDENT:
            raise InvalidSelector(f"found '{lit}', expected: identifier")
        kerrs = is_qualified_name(lit)
        if kerrs:
            raise InvalidSelector(f"<nil>: Invalid value: {_go_quote(lit)}: " + "; ".join(kerrs))
        key = lit
        t, _ = self.lookahead(True)
        if t in (_END, _COMMA) and operator != "!":
            operator = "exists"
        if operator in ("exists", "!"):
            return Requirement.new(key, operator, ())
        tok, lit = self.consume(False)
        op = {_IN: "in", _EQ: "=", _DEQ: "==", _GT: "gt", _LT: "lt", _NOTIN: "notin", _NEQ: "!="}.get(tok)
        if op is None:
            raise InvalidSelector(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        values = self.parse_values() if op in _SET_OPS else self.parse_exact_value()
        return Requirement.new(key, op, sorted(values))

    def parse_values(self) -> set[str]:
        tok, lit = self.consume(True)
        if tok != _OPEN:
            raise InvalidSelector(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead(True)
        if tok in (_IDENT, _COMMA):
            s = self.parse_identifiers_list()
            self.consume(True)  # always ')' here: the list only returns in front of one
            return s
        if tok == _CLOSE:
            self.consume(True)
            return {""}
        raise InvalidSelector(f"found '{lit}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        s: set[str] = set()
        while True:
            tok, lit = self.consume(True)
            if tok == _IDENT:
                s.add(lit)
                tok2, lit2 = self.lookahead(True)
                if tok2 == _COMMA:
                    continue
                if tok2 == _CLOSE:
                    return s
                raise InvalidSelector(f"found '{lit2}', expected: ',' or ')'")
            if tok == _COMMA:
                if not s:
                    s.add("")
                tok2, _ = self.lookahead(True)
                if tok2 == _CLOSE:
                    s.add("")
                    return s
                if tok2 == _COMMA:
                    s.add("")
                continue
            raise InvalidSelector(f"found '{lit}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        tok, _ = self.lookahead(True)
        if tok in (_END, _COMMA):
            return {""}
        tok, lit = self.consume(True)
        if tok == _IDENT:
            return {lit}
        raise InvalidSelector(f"found '{lit}', expected: identifier")


@functools.lru_cache(maxsize=1024)
def parse_selector(text: str) -> Selector:
    """Parse the ``kubectl -l`` syntax (``labels.Parse``): ``a=b``, ``a==b``, ``a!=b``,
    ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``, ``a>1``, ``a<1``, comma-separated,
    whitespace-tolerant. ``""`` is :meth:`Selector.everything`. ``O(len(text))``, memoised.

    Raises :class:`~kubesim.errors.InvalidSelector` with apimachinery's message.

    >>> parse_selector("a in (y,x),b")
    Selector.parse('a in (x,y),b')
    >>> parse_selector("a b")
    Traceback (most recent call last):
    ...
    kubesim.errors.InvalidSelector: unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt
    """
    reqs = _Parser(text).parse()
    if not reqs:
        return _EVERYTHING
    return Selector(reqs)


def selector_from_set(labels: Mapping[str, str] | None) -> Selector:
    """The selector of a Service's ``spec.selector`` map: ``None`` selects nothing (a
    selector-less Service), ``{}`` selects everything, otherwise ``k=v`` for each pair.
    Not validated (``SelectorFromValidatedSet``). ``O(n log n)``.

    Upstream's ``labels.SelectorFromSet`` maps ``nil`` to *everything*; the controllers check for
    a nil selector before calling it, which this function folds in.
    """
    if labels is None:
        return _NOTHING
    if not labels:
        return _EVERYTHING
    return Selector(Requirement(k, "=", (v,)) for k, v in labels.items())


_LS_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def selector_from_label_selector(ls: LabelSelector | None) -> Selector:
    """``metav1.LabelSelectorAsSelector``: ``None`` selects nothing, an empty selector
    everything; ``matchLabels`` become ``=`` requirements and ``matchExpressions`` use
    ``In``/``NotIn``/``Exists``/``DoesNotExist``. ``O(n log n)``.

    Raises :class:`~kubesim.errors.InvalidSelector` for an unknown operator
    (``"Foo" is not a valid label selector operator``) or invalid keys/values.
    """
    if ls is None:
        return _NOTHING
    if not ls.match_labels and not ls.match_expressions:
        return _EVERYTHING
    reqs: list[Requirement] = []
    for k in sorted(ls.match_labels):
        reqs.append(Requirement.new(k, "=", (ls.match_labels[k],)))
    for expr in ls.match_expressions:
        op = _LS_OPERATORS.get(expr.operator)
        if op is None:
            raise InvalidSelector(f"{_go_quote(expr.operator)} is not a valid label selector operator")
        # Go copies the values with append([]string(nil), ...): an empty list prints as null.
        vj = None if expr.values else "null"
        reqs.append(Requirement.new(expr.key, op, expr.values, values_json=vj))
    return Selector(reqs)
