"""A hostile-URL sweep: every page with every URL parameter set to values an attacker or a broken
link would send. No value may raise, and none may come back as live Markdown (a link or an image
that every viewer's browser would follow)."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from carta import urlstate
from carta.store import ROOT

LINK = "[Session expired, log in again](http://evil.example/login)"
IMAGE = "![x](http://evil.example/p.png)"
# One of each kind (a non-finite or overflowing number, a negative, zero, empty, huge, Markdown,
# HTML, SQL, a list too long): the values each parameter gets alone are tried below as well.
HOSTILE = [
    "-inf", "nan", "1e309", "-1", "0", "", "9" * 400, "x" * 10_000,
    IMAGE, LINK, "<script>alert(1)</script>", "' OR 1=1 --", "1,2,3,4,5,6,7,8",
    ";".join(f"W{i}:{i}:{i}:{i}" for i in range(4000)), ",".join(f"P{i}" for i in range(5000)),
]  # fmt: skip
# The parameters each page reads (bound widgets and the views' own state).
FILTERS = ["ind", "dx", "ab", "sex", "prod", "src", "age", "dose"]
PAGE_PARAMETERS = {
    "pages/home.py": ["q"],
    "pages/trajectory.py": ["patient", "find", "view", "raw", "bfrom", "bto", "near", "bcell",
                            "brec", "tisset", "win", "day"],
    "pages/summary.py": ["patient", "find", "present", "slide"],
    "pages/cohort.py": ["param", "show", "tps", "tw", "brush", "cat", "lanes", "nlanes", "sort",
                        "wf", "thr", *FILTERS],
    "pages/safety.py": [*FILTERS, "lanes", "cat", "brush"],
    "pages/completeness.py": [*FILTERS, "patient"],
    "pages/data.py": [],
}  # fmt: skip
EVERY_PARAMETER = sorted({p for params in PAGE_PARAMETERS.values() for p in params})
LIVE = re.compile(r"(?<!\\)\]\((?:https?:)?//evil\.example")


def shown_text(at: AppTest) -> str:
    elements = [*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.success]
    return "\n".join(str(e.value) for e in elements)


def opened(store, monkeypatch, page: str, query: dict[str, str]) -> AppTest:
    monkeypatch.setenv("CARTA_STORE", str(store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page).run()
    return at


def assert_safe(at: AppTest, where: str) -> None:
    assert not at.exception, (where, [e.stack_trace[-3:] for e in at.exception])
    assert not LIVE.search(shown_text(at)), where


@pytest.mark.parametrize("page", list(PAGE_PARAMETERS))
@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: v[:16] or "empty")
def test_every_parameter_at_once(fixture_store, monkeypatch, page, value) -> None:
    at = opened(fixture_store, monkeypatch, page, dict.fromkeys(EVERY_PARAMETER, value))
    assert_safe(at, f"{page} all={value[:30]!r}")


@pytest.mark.parametrize(
    ("page", "parameter"), [(p, k) for p, params in PAGE_PARAMETERS.items() for k in params]
)
def test_each_parameter_alone(fixture_store, monkeypatch, page, parameter) -> None:
    # One at a time, so that no value is masked by another one's message.
    for value in ("inf", "nan,nan", "", "x" * 10_000, LINK):
        at = opened(fixture_store, monkeypatch, page, {parameter: value})
        assert_safe(at, f"{page} {parameter}={value[:30]!r}")


def test_a_bad_number_is_named_and_not_repeated(fixture_store, monkeypatch) -> None:
    at = opened(fixture_store, monkeypatch, "pages/trajectory.py", {"near": "1e309"})
    assert "The link's “near” is not a whole number from 0 to 60" in shown_text(at)
    assert "1e309" not in shown_text(at)


def test_markdown_in_a_url_value_is_shown_as_text(fixture_store, monkeypatch) -> None:
    at = opened(fixture_store, monkeypatch, "pages/trajectory.py", {"patient": IMAGE})
    warning = next(w.value for w in at.warning if "is not" in w.value)
    assert "!\\[x\\](http\\://" in warning  # escaped: Streamlit shows the characters, no image


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("nan,nan", "not two study days"),
        ("inf,3", "not two study days"),
        ("-7", "not two study days"),
    ],
)
def test_a_window_of_non_finite_days_is_refused(text, problem) -> None:
    parsed = urlstate.study_window(text, (-10, 100))
    assert parsed.value is None and problem in parsed.problem


def test_url_lists_are_bounded() -> None:
    many = ";".join(f"W{i}:{i}:{i}:{i}" for i in range(urlstate.MAX_WINDOWS + 1))
    assert "more than" in urlstate.windows(many, None).problem
    lanes = ",".join(f"P{i}" for i in range(urlstate.MAX_LANES + 1))
    assert urlstate.lanes(lanes).value is None
    assert urlstate.brush("nan,1,2,3").value is None


def test_windows_out_of_order_or_named_twice_are_refused() -> None:
    assert urlstate.windows("A:5:6:9", "store").value == "store"  # nominal day before from
    assert urlstate.windows("A:5:0:9;A:7:6:9", "store").value == "store"
