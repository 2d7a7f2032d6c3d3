"""Hypothesis strategies for hostile form input, and the checks every fuzzed POST must pass.

Each example runs inside a savepoint rolled back at the end, so one example never sees what
another one did (a valid example may change the request: that is allowed, and undone).
"""

import re
from contextlib import contextmanager

from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Bounded so that the suite stays fast; deadline off: a request may take 100 ms on a busy CI.
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=False,
)

# Markup that must never come back unescaped (escaped, "<" becomes "&lt;").
XSS = (
    '<script>alert("xss")</script>',
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
)
PAYLOADS = (
    *XSS,
    "javascript:alert(1)",
    "'; DROP TABLE engineering_requests_engineeringrequest; --",
    "\x00",
    "avant\x00après",
    "\r\n\t\x0b\x0c\x1b[31m",
    "{{ request.user.password }}",
    "{% debug %}",
    "%(name)s %s %d",
    "../../../etc/passwd",
    "\u202egnp.exe",
    "ｓｃｒｉｐｔ",
    "\ufeff\u200b\u2028",
    "",
    " ",
    "1e999",
    "-1",
    "NaN",
    "Infinity",
    "99999999999999999999999999",
    "0",
    "00/00/0000",
    "31/02/2026",
    "9999-12-31",
    "0001-01-01",
)

# Every character but lone surrogates (no browser can send one in UTF-8).
any_char = st.characters(exclude_categories=("Cs",))
long_text = st.builds(
    lambda unit, n: unit * n,
    st.sampled_from(["a", "é", "😀", "\u202e", "<", "\x07"]),
    st.integers(150, 25_000),
)
hostile_text = st.one_of(
    st.text(any_char, max_size=40),
    st.text(any_char, min_size=40, max_size=400),
    st.sampled_from(PAYLOADS),
    long_text,
    st.builds(lambda a, b: a + b, st.sampled_from(PAYLOADS), st.text(any_char, max_size=20)),
)


def field(valid, *, missing=True):
    """A valid value, a hostile one, or (when ``missing``) no field at all (None)."""
    options = [valid, hostile_text]
    if missing:
        options.append(st.none())
    return st.one_of(*options)


def post_data(draw_dict: dict) -> dict:
    return {name: value for name, value in draw_dict.items() if value is not None}


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


RAW_XSS = re.compile("|".join(re.escape(p) for p in XSS))


def assert_safe_page(response, data: dict) -> None:
    """Never a server error; hostile markup that came in is never sent back as markup."""
    assert response.status_code < 500
    if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
        body = response.content.decode()
        for value in _values(data):
            for payload in RAW_XSS.findall(value):
                assert payload not in body, f"unescaped {payload!r}"


def _values(data):
    for value in data.values():
        if isinstance(value, list | tuple):
            yield from (str(v) for v in value)
        else:
            yield str(value)
