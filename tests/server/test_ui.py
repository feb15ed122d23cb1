"""The web page under /ui: login, CSRF, forms, timeline, filters, escaping (fake pipeline)."""

from __future__ import annotations

import re
import sqlite3
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("jinja2")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from _server_fakes import GENERIC, PROVIDER_ACCESS, FakePipeline

from icp_notify.models import Operation
from icp_notify.server import create_app
from icp_notify.server.settings import Settings
from icp_notify.server.store import MIGRATIONS, SqliteStore
from icp_notify.server.views import filing_timeline

TOKEN = "ui-s3cret-token"
FILING = "京ICP备2024012345号"
OTHER = "沪ICP备2023098765号"
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def _app(tmp_path: Path, **kw: Any) -> Any:
    return create_app(Settings(db=tmp_path / "ui.sqlite3", **kw), pipeline=FakePipeline())


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


@pytest.fixture
def anon(tmp_path: Path) -> Iterator[TestClient]:
    """A browser that has not logged in (the server has a token)."""
    with TestClient(_app(tmp_path, token=TOKEN)) as c:
        yield c


def _login(client: TestClient) -> str:
    """Log in; return the CSRF token of the new session."""
    csrf = _csrf(client.get("/ui/login").text)
    r = client.post("/ui/login", data={"csrf": csrf, "token": TOKEN}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/ui"
    return _csrf(client.get("/ui/notices/new").text)


@pytest.fixture
def browser(anon: TestClient) -> tuple[TestClient, str]:
    """A logged-in browser and its CSRF token."""
    return anon, _login(anon)


def _main(html: str) -> str:
    return html.split("<main>", 1)[1].split("</main>", 1)[0]


# ----------------------------------------------------------------------------- login, sessions


def test_pages_redirect_to_login_until_logged_in(anon: TestClient) -> None:
    for path in ("/ui", "/ui/notices", "/ui/notices/new", f"/ui/timeline?filing={FILING}"):
        r = anon.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"] == "/ui/login"
    page = anon.get("/ui/login")
    assert page.status_code == 200
    assert 'type="password" name="token"' in page.text
    assert "Open mode" not in page.text


def test_wrong_token_is_refused_and_right_token_logs_in(anon: TestClient) -> None:
    csrf = _csrf(anon.get("/ui/login").text)
    before = anon.cookies.get("icp_notify_session")
    wrong = anon.post("/ui/login", data={"csrf": csrf, "token": "guess"}, follow_redirects=False)
    assert wrong.status_code == 401
    assert "wrong token" in wrong.text
    assert anon.get("/ui", follow_redirects=False).status_code == 303  # still logged out

    right = anon.post("/ui/login", data={"csrf": csrf, "token": TOKEN}, follow_redirects=False)
    assert right.status_code == 303
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/ui" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test
    assert TOKEN not in cookie
    assert anon.cookies.get("icp_notify_session") != before  # a new session id after login
    assert anon.get("/ui").status_code == 200


def test_cookie_is_secure_over_https(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path, token=TOKEN), base_url="https://icp.example.test") as c:
        r = c.get("/ui/login")
        assert "Secure" in r.headers["set-cookie"]


def test_logout_ends_the_session(browser: tuple[TestClient, str]) -> None:
    client, csrf = browser
    old = client.cookies.get("icp_notify_session")
    r = client.post("/ui/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/login"
    # the old cookie no longer opens the page
    client.cookies.set("icp_notify_session", old or "", path="/ui")
    assert client.get("/ui", follow_redirects=False).headers["location"] == "/ui/login"


def test_open_mode_says_so_and_needs_no_login(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path)) as c:
        page = c.get("/ui")
        assert page.status_code == 200
        assert "Open mode" in page.text
        assert "Log out" not in page.text
        # forms still need the CSRF token
        r = c.post("/ui/notices", data={"filing": FILING, "text": GENERIC})
        assert r.status_code == 403
        csrf = _csrf(c.get("/ui/notices/new").text)
        r = c.post("/ui/notices", data={"csrf": csrf, "filing": FILING, "text": GENERIC})
        assert r.status_code == 200
        assert "notice #1" in r.text


# ----------------------------------------------------------------------------- CSRF, headers


@pytest.mark.parametrize("csrf", [None, "", "forged-token"])
def test_post_without_the_session_csrf_token_is_403(
    browser: tuple[TestClient, str], csrf: str | None
) -> None:
    client, _ = browser
    data = {"filing": FILING, "text": GENERIC} | ({"csrf": csrf} if csrf is not None else {})
    for path in ("/ui/notices", "/ui/operations", "/ui/ack", "/ui/logout"):
        r = client.post(path, data=data)
        assert r.status_code == 403, path
        assert "CSRF" in r.text
    assert client.get("/ui/notices").text.count("<tr>") == 0  # nothing stored


def test_post_without_a_session_is_403(anon: TestClient) -> None:
    csrf = _csrf(anon.get("/ui/login").text)
    anon.cookies.clear()
    r = anon.post("/ui/login", data={"csrf": csrf, "token": TOKEN})
    assert r.status_code == 403


def test_logged_out_session_cannot_post_forms(anon: TestClient) -> None:
    csrf = _csrf(anon.get("/ui/login").text)  # an anonymous session with a valid CSRF token
    r = anon.post(
        "/ui/notices",
        data={"csrf": csrf, "filing": FILING, "text": GENERIC},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/login"


def test_security_headers_on_every_page(browser: tuple[TestClient, str]) -> None:
    client, _ = browser
    for path in ("/ui", "/ui/notices", "/ui/notices/new", "/ui/operations/new", "/ui/login"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "script-src" not in csp  # no script source at all: inline scripts never run
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-type"].startswith("text/html")
    css = client.get("/ui/static/style.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")


def test_ui_is_not_in_the_openapi_schema(anon: TestClient) -> None:
    paths = anon.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/ui")]


# ----------------------------------------------------------------------------- the full round


def test_full_round_operation_notice_timeline_filters(browser: tuple[TestClient, str]) -> None:
    client, csrf = browser
    op = client.post(
        "/ui/operations",
        data={
            "csrf": csrf,
            "filing": FILING,
            "kind": "access_domain",
            "submitted_at": "2025-03-01T10:00",
            "domain": "shop-demo.cn",
            "provider": "云栈科技",
            "from_provider": "旧云",
        },
        follow_redirects=False,
    )
    assert op.status_code == 303
    assert op.headers["location"].startswith("/ui/timeline?filing=")
    first = client.post(
        "/ui/notices",
        data={
            "csrf": csrf,
            "filing": FILING,
            "text": PROVIDER_ACCESS,
            "sender": "10690000",
            "received_at": "2025-03-05T09:00",
        },
    )
    assert first.status_code == 200  # followed the redirect to the timeline
    second = client.post(
        "/ui/notices",
        data={
            "csrf": csrf,
            "filing": FILING,
            "text": GENERIC,
            "sender": "12381",
            "channel": "sms",
            "received_at": "2025-03-09T11:30",
        },
    )
    page = _main(second.text)
    # time order: the operation, the access notice, the generic notice (cancellation by context)
    assert page.index("operation #1") < page.index("notice #1") < page.index("notice #2")
    assert "2025-03-01 10:00" in page
    assert "shop-demo.cn" in page
    assert "access_cancelled" in page
    assert "change_notice_generic" in page
    assert "u-critical" in page
    # stored through the same path as POST /v1/notices
    api = client.get("/v1/notices/2", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert api["source"] == "api"
    assert api["report"]["classification"]["situation"] == "access_cancelled"

    filings = _main(client.get("/ui").text)
    assert FILING in filings
    assert "u-critical" in filings
    assert "2 / 2" in filings

    cancelled = _main(client.get("/ui/notices", params={"situation": "access_cancelled"}).text)
    assert "接入服务提供商" in cancelled
    assert "接入备案已审核通过" not in cancelled
    info = _main(client.get("/ui/notices", params={"urgency": "info"}).text)
    assert "接入备案已审核通过" in info
    assert "接入服务提供商" not in info
    other = _main(client.get("/ui/notices", params={"filing": OTHER}).text)
    assert "No notices match" in other


def test_acknowledging_closes_a_notice(browser: tuple[TestClient, str]) -> None:
    client, csrf = browser
    client.post("/ui/notices", data={"csrf": csrf, "filing": FILING, "text": GENERIC})
    assert "u-high" in _main(client.get("/ui").text)  # the ambiguous notice is high and open
    r = client.post(
        "/ui/ack", data={"csrf": csrf, "notice_id": "1", "lang": "en"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"].endswith("&lang=en")
    filings = _main(client.get("/ui").text)
    assert "none open" in filings
    assert "0 / 1" in filings
    timeline = _main(client.get("/ui/timeline", params={"filing": FILING}).text)
    assert "acknowledged" in timeline
    assert 'action="/ui/ack"' not in timeline
    missing = client.post("/ui/ack", data={"csrf": csrf, "notice_id": "99"})
    assert missing.status_code == 404


def test_timeline_shows_ambiguous_candidates_and_switches_language(
    browser: tuple[TestClient, str],
) -> None:
    client, csrf = browser
    client.post("/ui/notices", data={"csrf": csrf, "filing": FILING, "text": GENERIC, "lang": "zh"})
    zh = _main(client.get("/ui/timeline", params={"filing": FILING}).text)
    assert "ambiguous" in zh
    assert "access_cancelled / new_domain" in zh
    assert "confidence 40%" in zh
    assert "fake" in zh  # the stored (zh) card
    assert "lang=en" in zh
    en = _main(client.get("/ui/timeline", params={"filing": FILING, "lang": "en"}).text)
    assert "fake" not in en  # recomposed in English by the advisor
    assert "check_candidates" in en
    assert re.search(r"<li>[A-Z][a-z]", en)  # English steps


def test_notices_list_is_paginated(
    browser: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("icp_notify.server.ui.PAGE_SIZE", 2)
    client, csrf = browser
    for day in (1, 2, 3):
        client.post(
            "/ui/notices",
            data={
                "csrf": csrf,
                "filing": FILING,
                "text": f"{PROVIDER_ACCESS} 第{day}次",
                "received_at": f"2025-04-0{day}T08:00",
            },
        )
    first = client.get("/ui/notices", params={"urgency": "info"})
    assert "第3次" in first.text
    assert "第2次" in first.text
    assert "第1次" not in first.text
    next_url = re.search(r'href="(/ui/notices\?[^"]*cursor=[^"]+)"', first.text)
    assert next_url
    second = client.get(next_url.group(1).replace("&amp;", "&"))
    assert "第1次" in second.text
    assert "第3次" not in second.text
    assert "Older notices" not in second.text
    assert "First page" in second.text
    bad = client.get("/ui/notices", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422
    assert "cursor" in bad.text


@pytest.mark.parametrize(
    ("params", "field"),
    [({"situation": "cancelled?"}, "situation"), ({"urgency": "urgent"}, "urgency")],
)
def test_bad_filters_are_shown_not_500(
    browser: tuple[TestClient, str], params: dict[str, str], field: str
) -> None:
    client, _ = browser
    r = client.get("/ui/notices", params=params)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert f"{field}:" in r.text


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"filing": FILING, "kind": "access_domain", "submitted_at": "next tuesday"},
            "submitted_at",
        ),
        (
            {"filing": FILING, "kind": "delete_everything", "submitted_at": "2025-03-01T10:00"},
            "kind",
        ),
        ({"filing": "", "kind": "new_domain", "submitted_at": "2025-03-01T10:00"}, "filing"),
        ({"filing": FILING, "kind": "new_domain", "submitted_at": "1890-01-01T10:00"}, "range"),
        ({"filing": "x" * 201, "kind": "new_domain", "submitted_at": "2025-03-01T10:00"}, "filing"),
    ],
)
def test_bad_operation_shows_the_form_again_with_the_error(
    browser: tuple[TestClient, str], data: dict[str, str], message: str
) -> None:
    client, csrf = browser
    r = client.post("/ui/operations", data={"csrf": csrf, "provider": "云栈科技", **data})
    assert r.status_code == 422
    page = _main(r.text)
    assert 'class="error"' in page
    assert message in page.split("</div>", 1)[0]
    assert 'value="云栈科技"' in page  # what was typed is kept
    assert 'action="/ui/operations"' in page
    assert (
        client.get(
            "/v1/operations",
            params={"filing": FILING},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).json()["items"]
        == []
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"filing": FILING, "text": "   "}, "empty"),
        ({"filing": FILING, "text": "x" * 20_001}, "20001 characters"),
        ({"filing": "", "text": GENERIC}, "filing"),
        ({"filing": FILING, "text": GENERIC, "channel": "pigeon"}, "channel"),
        ({"filing": FILING, "text": GENERIC, "received_at": "yesterday"}, "received_at"),
        ({"filing": FILING, "text": GENERIC, "lang": "fr"}, "lang"),
    ],
)
def test_bad_notice_shows_the_form_again_with_the_error(
    browser: tuple[TestClient, str], data: dict[str, str], message: str
) -> None:
    client, csrf = browser
    r = client.post("/ui/notices", data={"csrf": csrf, "sender": "12381", **data})
    assert r.status_code == 422
    page = _main(r.text)
    assert message in page.split("</div>", 1)[0]
    assert 'value="12381"' in page
    assert "No notices match" in client.get("/ui/notices").text


def test_notice_form_when_the_pipeline_is_not_loaded(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "b.sqlite3", pipeline="icp_notify_no_such_module:Pipeline")
    with TestClient(create_app(settings)) as c:
        csrf = _csrf(c.get("/ui/notices/new").text)
        r = c.post("/ui/notices", data={"csrf": csrf, "filing": FILING, "text": GENERIC})
        assert r.status_code == 503
        assert "not loaded" in r.text
        assert r.headers["content-type"].startswith("text/html")


# ----------------------------------------------------------------------------- escaping


def test_notice_text_and_filing_are_shown_as_text_everywhere(
    browser: tuple[TestClient, str],
) -> None:
    client, csrf = browser
    filing = f"{FILING}{XSS}"
    posted = client.post(
        "/ui/notices", data={"csrf": csrf, "filing": filing, "text": f"{GENERIC}{XSS}"}
    )
    assert posted.status_code == 200
    pages = [
        posted.text,
        client.get("/ui").text,
        client.get("/ui/notices").text,
        client.get("/ui/notices", params={"filing": filing}).text,
        client.get("/ui/timeline", params={"filing": filing, "lang": "en"}).text,
        client.get("/ui/notices/new", params={"filing": filing}).text,
        # a form shown again echoes the input: escaped too
        client.post("/ui/notices", data={"csrf": csrf, "filing": "", "text": XSS}).text,
    ]
    for html in pages:
        assert "<script>" not in html
        assert "<img" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=alert(2)&gt;" in html


# ----------------------------------------------------------------------------- view, store


def test_filing_timeline_orders_and_takes_attributions(tmp_path: Path) -> None:
    app = _app(tmp_path)
    with TestClient(app) as c:
        csrf = _csrf(c.get("/ui/notices/new").text)
        for text, when in ((GENERIC, "2025-03-09T11:30"), (PROVIDER_ACCESS, "2025-03-05T09:00")):
            c.post(
                "/ui/notices",
                data={"csrf": csrf, "filing": FILING, "text": text, "received_at": when},
            )
        store: SqliteStore = app.state.store
        store.add_operation(
            FILING, Operation(kind="access_domain", submitted_at="2025-03-01T10:00:00")
        )
        view = filing_timeline(store, FILING, attributions={1: ("operation #1 moved the site",)})
        assert [(e.type, e.at.day) for e in view.entries] == [
            ("operation", 1),
            ("notice", 5),
            ("notice", 9),
        ]
        assert view.entries[2].notice is not None
        assert view.entries[2].notice.explained_by == ("operation #1 moved the site",)
        assert view.entries[1].notice is not None
        assert view.entries[1].notice.open
        assert not view.truncated
        assert filing_timeline(store, FILING, limit=1).truncated


def test_migration_3_keeps_stored_notices(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version, statements in MIGRATIONS:
        if version > 2:
            break
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?)", (version,))
    conn.execute(
        "INSERT INTO notices (filing, dedupe_key, source, channel, stored_at, at_ts, raw_text,"
        " notice_text, situation, kind, urgency, report_json) VALUES ('f', 'k', 'api', 'sms',"
        " '2025-03-01T00:00:00+00:00', 1740787200, 't', 't', NULL, 'progress', 'high', '{}')"
    )
    conn.commit()
    conn.close()
    store = SqliteStore(path)
    assert store.schema_version == 3
    [summary] = store.filing_summaries()
    assert (summary.filing, summary.notices, summary.open_notices) == ("f", 1, 1)
    assert summary.worst_open is not None
    assert summary.worst_open.value == "high"
    assert store.acknowledge(1) is not None
    assert store.acknowledge(1) == store.acknowledged("f")[1]  # idempotent: first time kept
    assert store.acknowledge(2) is None
    assert store.filing_summaries()[0].worst_open is None
    store.close()


def test_a_form_that_is_not_utf8_is_refused_not_mangled(browser: tuple[TestClient, str]) -> None:
    client, csrf = browser
    headers = {"content-type": "application/x-www-form-urlencoded"}
    body = f"csrf={csrf}&filing=%E4%BA%AC&text=%B9%A4%D0%C5%B2%BF".encode()  # GBK, not UTF-8
    r = client.post("/ui/notices", content=body, headers=headers)
    assert r.status_code == 400
    assert "UTF-8" in r.text
    multipart = client.post(
        "/ui/notices",
        data={"csrf": csrf, "filing": FILING},
        files={"text": (None, "工信部".encode("gbk"))},
    )
    assert multipart.status_code == 400
    assert "No notices match" in client.get("/ui/notices").text


def test_full_round_shows_the_cancellation_alert_in_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Log in, register a move, paste the provider's and MIIT's notices: the generic notice
    is the old provider's cancellation (critical), its alert sits in the outbox (the receiver
    is down), and the timeline shows it under the notice."""
    monkeypatch.setenv("ICPN_UI_HOOK_SECRET", "whsec-example")
    alerts = tmp_path / "alerts.toml"
    alerts.write_text(
        """
[delivery]
poll_s = 30
[channels.ops]
type = "webhook"
url = "http://127.0.0.1:9/alerts"
secret_env = "ICPN_UI_HOOK_SECRET"
[[routes]]
channels = ["ops"]
lang = "en"
""",
        encoding="utf-8",
    )
    settings = Settings(db=tmp_path / "ui.sqlite3", token=TOKEN, alerts=alerts)
    with TestClient(create_app(settings, pipeline=FakePipeline())) as client:
        csrf = _login(client)
        assert (
            client.post(
                "/ui/operations",
                data={
                    "csrf": csrf,
                    "filing": FILING,
                    "kind": "access_domain",
                    "submitted_at": "2025-03-01T10:00",
                    "provider": "云栈科技",
                    "from_provider": "旧云",
                },
                follow_redirects=False,
            ).status_code
            == 303
        )
        for text, at in ((PROVIDER_ACCESS, "2025-03-05T09:00"), (GENERIC, "2025-03-09T11:30")):
            r = client.post(
                "/ui/notices",
                data={"csrf": csrf, "filing": FILING, "text": text, "received_at": at},
            )
            assert r.status_code == 200
        outbox = client.get(
            "/v1/alerts", params={"filing": FILING}, headers={"Authorization": f"Bearer {TOKEN}"}
        ).json()["items"]
        critical = [a for a in outbox if a["urgency"] == "critical"]
        assert len(critical) == 1
        assert critical[0]["channel"] == "ops"
        assert critical[0]["state"] in {"pending", "sending", "retry"}  # the receiver is down
        page = _main(client.get("/ui/timeline", params={"filing": FILING}).text)
        notice_2 = page.split('id="notice-2"', 1)[1]
        assert f'id="alert-{critical[0]["id"]}"' in notice_2
        assert "<code>ops</code>" in notice_2


def test_an_operation_registered_late_re_explains_the_filing(
    browser: tuple[TestClient, str],
) -> None:
    """The notices arrive first; the move registered afterwards on the page turns MIIT's
    generic notice into the old provider's cancellation, and the timeline says why."""
    client, csrf = browser
    for text, at in ((PROVIDER_ACCESS, "2025-03-05T09:00"), (GENERIC, "2025-03-09T11:30")):
        client.post(
            "/ui/notices", data={"csrf": csrf, "filing": FILING, "text": text, "received_at": at}
        )
    before = _main(client.get("/ui/timeline", params={"filing": FILING}).text)
    assert "u-critical" not in before  # ambiguous until the move is known
    r = client.post(
        "/ui/operations",
        data={
            "csrf": csrf,
            "filing": FILING,
            "kind": "access_domain",
            "submitted_at": "2025-03-01T10:00",
            "provider": "云栈科技",
            "from_provider": "旧云",
        },
    )
    assert r.status_code == 200
    page = _main(r.text)
    generic = page.split('id="notice-2"', 1)[1]
    assert "access_cancelled" in generic
    assert "u-critical" in generic
    assert "Explained by" in generic


def test_the_operation_form_keeps_the_operation_cap(
    browser: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page registers operations through the API's path: past the cap, the form again."""
    import icp_notify.server.explain as explain_module

    monkeypatch.setattr(explain_module, "MAX_OPERATIONS", 1)
    client, csrf = browser
    form = {"csrf": csrf, "filing": FILING, "kind": "modify_domain"}
    first = client.post(
        "/ui/operations", data={**form, "submitted_at": "2025-03-01T10:00"}, follow_redirects=False
    )
    assert first.status_code == 303
    second = client.post("/ui/operations", data={**form, "submitted_at": "2025-03-02T10:00"})
    assert second.status_code == 422
    assert "the limit of its context" in second.text
