"""Languages: Chinese by default, English on request and remembered; both catalogs complete."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from .conftest import Auth, csrf_token, post
from .support import TRANSLATIONS

ROOT = Path(__file__).resolve().parents[2]


def test_english_is_chosen_remembered_and_used_for_task_names(client, auth, case):
    auth.login("officer1")
    response = post(client, "/language", {"lang": "en", "next": "/?tab=mine"})
    assert response.headers["Location"] == "/?tab=mine"
    assert "lang=en" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "My tasks" in page
    assert "File the case" in page and "Enforcement officer" in page
    assert "2 Nov 2026" in page
    client.delete_cookie("lang")
    assert "My tasks" in client.get("/").get_data(as_text=True)  # the user's saved choice


def test_a_choice_made_before_signing_in_follows_the_user(client):
    client.post("/language", data={"lang": "en", "_csrf_token": csrf_token(client)})
    assert "Staff sign-in" in client.get("/login").get_data(as_text=True)
    Auth(client).login("officer2")
    client.delete_cookie("lang")
    assert "Inbox" in client.get("/").get_data(as_text=True)


def test_chinese_dates_are_written_the_chinese_way(client, auth, case):
    auth.login("officer1")
    page = client.get(f"/tasks/{case.task_id}").get_data(as_text=True)
    assert "2026年11月9日 23:59" in page


def test_the_english_catalog_translates_every_marked_string(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "webapp/babel.cfg", "-k", "_l", "-k", "Message",
                    "--no-location", "-o", str(template), "."], cwd=ROOT, check=True, capture_output=True)
    with template.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert wanted - translated == set(), "untranslated"
    assert translated - wanted == set(), "obsolete"
    assert [problem for message in catalog for problem in message.check(catalog)] == []


def test_the_engines_messages_follow_the_interface_language(client, auth, case):
    auth.login("officer1")
    post(client, "/language", {"lang": "en", "next": "/"})
    page = post(client, f"/tasks/{case.task_id}", {"party_name": "", "_action": "complete"}).get_data(as_text=True)
    assert "Please fill in 当事人." in page and "请填写" not in page
    auth.logout()
    assert "Wrong username or password; 5 wrong attempts in a row lock the account for 15 minutes." in auth.login("officer1", "wrong").get_data(as_text=True)
