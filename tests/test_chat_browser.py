"""The Chat tab in a real browser (headless Chromium through Playwright), against the loopback fake API."""

from __future__ import annotations

import pytest

from tests.fake_openai import responses as fake_responses
from tests.apphelpers import app_settings, running_app
from tests.browser_support import (
    VIEWPORT,
    close_page,
    new_page,
    served_page,
    text_input,
)

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture says what is missing
    expect = None


@pytest.fixture(scope="module")
def served(fake, tmp_path_factory):
    with served_page(app_settings(fake.base_url, tmp_path_factory.mktemp("chat"))) as handle:
        yield handle


@pytest.fixture
def page(browser, fake, request):
    fake.reset()
    fake.default_delay_s = 0.0
    return new_page(browser, request, viewport=VIEWPORT)


def open_chat(pg, url: str):
    pg.goto(url)
    expect(pg.locator("#generate")).to_be_visible(timeout=30_000)
    pg.get_by_role("tab", name="Chat").click()
    expect(text_input(pg, "chat_text")).to_be_editable()
    return pg


def send(pg, text: str) -> None:
    text_input(pg, "chat_text").fill(text)
    pg.locator("#chat_send").click()


def test_turns_show_their_images_branch_and_survive_a_reload(page, served, fake):
    pg = open_chat(page, served.url)
    text_input(pg, "chat_text").press_sequentially("a fox in snow")  # typed: fill() sends no input event
    expect(pg.locator("#chat_cost")).to_contain_text("This turn: ≈ $")  # the estimate, before the turn
    send(pg, "a fox in snow")
    view = pg.locator("#chat_view")
    expect(view).to_contain_text("Here is your image: a fox in snow")
    expect(view.locator("img")).to_have_count(1)
    # the fake lists gpt-5, not the default gpt-5.4-mini: said once, and its unpriced tokens are marked ≈
    expect(pg.locator("#chat_notice")).to_contain_text("does not list gpt-5.4-mini; the conversation uses gpt-5")
    expect(pg.locator("#chat_cost")).to_contain_text("This turn cost ≈ $")
    send(pg, "why a fox?")
    expect(view).to_contain_text("You asked: why a fox?")
    requests = [r.json for r in fake_responses.state(fake).requests]
    assert requests[1]["previous_response_id"] == next(iter(fake_responses.state(fake).stored))
    pg.reload()
    pg.get_by_role("tab", name="Chat").click()
    expect(pg.locator("#chat_view")).to_contain_text("You asked: why a fox?")
    expect(pg.locator("#chat_view img")).to_have_count(1)
    pg.locator("#chat_from input").click()
    pg.get_by_role("option", name="turn 1: a fox in snow").click()
    send(pg, "a hare instead")
    expect(pg.locator("#chat_view")).to_contain_text("Here is your image: a hare instead")
    expect(pg.locator("#chat_view")).not_to_contain_text("why a fox")  # the new branch shows its own path
    expect(pg.locator("#chat_branches")).to_contain_text("2 branches")


def test_an_endpoint_without_responses_is_explained_in_the_tab(page, served, fake):
    fake_responses.state(fake).mode = "absent"
    try:
        pg = open_chat(page, served.url)
        send(pg, "a fox")
        expect(pg.locator("#chat_cost")).to_contain_text("no /responses endpoint")
        expect(pg.locator("#chat_view")).to_contain_text("This turn failed")
    finally:
        fake_responses.state(fake).mode = "on"


@pytest.fixture(scope="module")
def shelf(fake, tmp_path_factory):
    """The page with its Library tab (as on loopback by default)."""
    with running_app(app_settings(fake.base_url, tmp_path_factory.mktemp("chat-shelf")), sleep=lambda s: None,
                     library=True) as handle:
        yield handle


def test_an_image_in_the_library_reopens_its_conversation_at_its_turn(page, shelf, fake):
    pg = open_chat(page, shelf.url)
    send(pg, "a fox in snow")
    expect(pg.locator("#chat_view img")).to_have_count(1)
    send(pg, "now at night")
    expect(pg.locator("#chat_view img")).to_have_count(2)
    pg.get_by_role("tab", name="Library").click()
    expect(pg.locator("#lib_grid img")).to_have_count(2, timeout=15_000)
    text_input(pg, "lib_words").fill("fox")
    text_input(pg, "lib_words").press("Enter")
    expect(pg.locator("#lib_grid img")).to_have_count(1)
    pg.locator("#lib_grid img").first.click()
    expect(pg.locator("#lib_prompt textarea")).to_have_value("a fox in snow")
    expect(pg.locator("#lib_details")).to_contain_text(", turn 1 (the Chat tab reopens it there)")
    pg.get_by_role("tab", name="Chat").click()
    pg.get_by_role("button", name="Reopen the Library pick's conversation").click()
    expect(pg.locator("#chat_cost")).to_contain_text("reopened at turn 1")
    expect(pg.locator("#chat_view img")).to_have_count(1)  # the branch up to turn 1
    send(pg, "a hare instead")
    expect(pg.locator("#chat_view")).to_contain_text("from turn 1")


@pytest.fixture(scope="module")
def public(fake, tmp_path_factory):
    """The page as served beyond loopback (a public Space): no library, conversations per browser."""
    with running_app(app_settings(fake.base_url, tmp_path_factory.mktemp("chat-public")), sleep=lambda s: None,
                     host="0.0.0.0") as handle:
        yield handle


def test_on_a_public_page_a_visitor_sees_only_their_own_conversations(browser, public, fake, request):
    fake.reset()
    alice_context, bob_context = browser.new_context(viewport=VIEWPORT), browser.new_context(viewport=VIEWPORT)
    alice, bob = alice_context.new_page(), bob_context.new_page()
    try:
        open_chat(alice, public.url)
        send(alice, "alice's secret lighthouse")
        expect(alice.locator("#chat_view")).to_contain_text("Here is your image: alice's secret lighthouse")
        open_chat(bob, public.url)
        expect(bob.locator("#chat_view")).not_to_contain_text("lighthouse")
        bob.locator("#chat_conversation input").click()
        expect(bob.get_by_role("option", name="alice's secret lighthouse", exact=False)).to_have_count(0)
        alice.reload()
        alice.get_by_role("tab", name="Chat").click()
        expect(alice.locator("#chat_view")).to_contain_text("alice's secret lighthouse")  # hers, after a reload
    finally:
        close_page(bob_context, bob, request)
        close_page(alice_context, alice, request)
