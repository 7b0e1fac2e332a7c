"""How `/mktg` text, amounts, due dates and request references are read (bot/requests/command.py)."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import UserError
from bot.core.text import (
    MAX_AMOUNT_CENTS,
    format_money,
    format_reference,
    parse_amount,
    parse_reference,
)
from bot.requests.command import (
    CancelRequest,
    FileRequest,
    ListMine,
    MktgCommand,
    OpenForm,
    RequestDraft,
    ShowHelp,
    ShowStatus,
    parse_mktg_command,
)
from bot.requests.due_dates import check_due_date, parse_due_date
from bot.requests.keywords import HELP_EXAMPLES, HELP_TEXT, TYPE_KEYWORDS
from bot.requests.types import RequestType

MONDAY = date(2026, 6, 1)
FRIDAY = date(2026, 6, 5)


def parse(text: str, today: date = MONDAY) -> MktgCommand:
    return parse_mktg_command(text, today=today)


def filed(text: str, today: date = MONDAY) -> RequestDraft:
    result = parse(text, today)
    assert isinstance(result, FileRequest), result
    return result.draft


def form(text: str, today: date = MONDAY) -> OpenForm:
    result = parse(text, today)
    assert isinstance(result, OpenForm), result
    return result


def error(text: str, today: date = MONDAY) -> str:
    with pytest.raises(UserError) as caught:
        parse(text, today)
    return caught.value.message


def due(text: str, today: date = MONDAY) -> date:
    return parse_due_date(text, today=today)


# --- the one-line request -----------------------------------------------------------


def test_full_one_line_request_is_filed_with_every_field() -> None:
    draft = filed("deck Acme Corp $250k due 2026-12-04 Renewal pitch for the CFO")
    assert draft == RequestDraft(
        request_type=RequestType.DEAL_DECK,
        account="Acme Corp",
        amount_cents=25_000_000,
        due_date=date(2026, 12, 4),
        details="Renewal pitch for the CFO",
    )


def test_markers_are_recognised_in_any_order() -> None:
    draft = filed("deck Acme Corp due 2026-12-04 $250k Renewal pitch for the CFO")
    assert (draft.account, draft.amount_cents, draft.due_date, draft.details) == (
        "Acme Corp",
        25_000_000,
        date(2026, 12, 4),
        "Renewal pitch for the CFO",
    )


def test_pieces_between_and_after_markers_are_joined_into_the_details() -> None:
    draft = filed("deck Acme Corp $250k Renewal pitch due fri for the CFO")
    assert draft.account == "Acme Corp"
    assert draft.details == "Renewal pitch for the CFO"


def test_separators_left_around_markers_are_dropped() -> None:
    draft = filed("deck Acme Corp, $250k, due fri - renewal pitch")
    assert (draft.account, draft.details) == ("Acme Corp", "renewal pitch")


def test_a_dash_that_belongs_to_a_word_is_kept() -> None:
    assert filed("deck Acme $5k -5% discount story").details == "-5% discount story"


def test_empty_text_opens_an_empty_form() -> None:
    assert parse("") == OpenForm(RequestDraft())
    assert parse("   \n ") == OpenForm(RequestDraft())


@pytest.mark.parametrize("text", ["deck", "DECK", "deck:", "Deck."])
def test_type_alone_opens_the_form_with_the_type_chosen(text: str) -> None:
    assert parse(text) == OpenForm(RequestDraft(request_type=RequestType.DEAL_DECK))


def test_free_text_without_a_marker_opens_the_form_rather_than_guessing_the_account() -> None:
    result = form("deck Renewal pitch for the CFO")
    assert result.draft == RequestDraft(
        request_type=RequestType.DEAL_DECK, details="Renewal pitch for the CFO"
    )
    assert result.reason is not None
    assert "account" in result.reason


def test_markers_without_any_free_text_open_the_form_prefilled() -> None:
    result = form("deck $5k due fri")
    assert result.draft == RequestDraft(
        request_type=RequestType.DEAL_DECK, amount_cents=500_000, due_date=FRIDAY
    )
    assert result.reason


def test_text_after_a_leading_marker_is_details_without_an_account() -> None:
    draft = filed("deck $250k Renewal pitch")
    assert (draft.account, draft.details) == (None, "Renewal pitch")


def test_account_alone_before_a_marker_is_filed_without_details() -> None:
    draft = filed("deck Acme Corp $250k")
    assert (draft.account, draft.details) == ("Acme Corp", None)


def test_line_break_inside_the_would_be_account_opens_the_form() -> None:
    result = form("deck Acme Corp\nRenewal pitch $5k more")
    assert result.draft.account is None
    assert result.draft.amount_cents == 500_000
    assert result.draft.details == "Acme Corp\nRenewal pitch more"


def test_details_keep_their_line_breaks() -> None:
    draft = filed("deck Acme Corp $5k\nline one\n\n  line two")
    assert draft.details == "line one\n\n  line two"


def test_whitespace_inside_the_account_is_collapsed() -> None:
    assert filed("deck Acme \t  Corp $5k pitch").account == "Acme Corp"


def test_ten_thousand_character_details_are_kept_whole() -> None:
    details = ("Renewal pitch line with words.\n" * 400).strip()
    assert len(details) > 10_000
    assert filed(f"deck Acme $5k {details}").details == details


def test_account_over_150_characters_is_rejected() -> None:
    assert filed(f"deck {'A' * 150} $5k").account == "A" * 150
    assert error(f"deck {'A' * 151} $5k").startswith("The account name is too long")


# --- explicit accounts ----------------------------------------------------------------


@pytest.mark.parametrize("quoted", ['"Acme Corp"', "\u201cAcme Corp\u201d"])
def test_quoted_account_needs_no_marker(quoted: str) -> None:
    draft = filed(f"deck {quoted} Renewal pitch for the CFO")
    assert (draft.account, draft.details) == ("Acme Corp", "Renewal pitch for the CFO")


def test_quoted_account_may_follow_a_marker() -> None:
    draft = filed('deck $5k "Acme Corp" Renewal pitch')
    assert (draft.account, draft.details) == ("Acme Corp", "Renewal pitch")


def test_quotes_later_in_the_text_do_not_make_an_account() -> None:
    result = form('deck Renewal pitch they call "too expensive"')
    assert result.draft.account is None


@pytest.mark.parametrize(
    "text",
    [
        "deck Renewal pitch account: Acme Corp; for the CFO",
        "deck account: Acme Corp; Renewal pitch for the CFO",
        "deck Account:Acme Corp ; Renewal pitch for the CFO",
        'deck account: "Acme Corp" Renewal pitch for the CFO',
        'deck Renewal pitch for the CFO account:"Acme Corp"',
    ],
)
def test_account_label_marks_the_account_anywhere(text: str) -> None:
    draft = filed(text)
    assert draft.account == "Acme Corp"
    assert draft.details is not None
    assert " ".join(draft.details.split()) == "Renewal pitch for the CFO"


def test_account_label_stops_at_a_marker_or_line_end() -> None:
    assert filed("deck account: Acme Corp $5k pitch").account == "Acme Corp"
    assert filed("deck account: Acme Corp\npitch").account == "Acme Corp"


def test_semicolon_of_an_escaped_ampersand_does_not_end_the_account() -> None:
    draft = filed("deck account: Barnes &amp; Noble; pitch")
    assert (draft.account, draft.details) == ("Barnes & Noble", "pitch")


# --- type keywords --------------------------------------------------------------------

SYNONYMS = {
    RequestType.DEAL_DECK: ["deck", "deal-deck", "dealdeck", "slides", "pitch"],
    RequestType.OBJECTION_HELP: ["objection", "objections", "obj"],
    RequestType.CASE_STUDY: ["casestudy", "case-study", "case", "story", "reference"],
    RequestType.ROI_CASE: ["roi", "business-case", "businesscase", "bizcase", "tco"],
    RequestType.COMPETITIVE_INTEL: ["competitive", "compete", "competitor", "battlecard", "intel"],
    RequestType.CUSTOM_CONTENT: ["content", "custom", "onepager", "one-pager", "collateral"],
    RequestType.EVENT_SUPPORT: ["event", "events", "booth", "webinar"],
    RequestType.OTHER: ["other", "misc"],
}


@pytest.mark.parametrize(
    ("word", "request_type"),
    [(word, request_type) for request_type, words in SYNONYMS.items() for word in words],
)
def test_every_type_keyword_and_synonym_is_understood_in_any_case(
    word: str, request_type: RequestType
) -> None:
    for spelled in (word, word.upper(), word.title() + ":", word + ","):
        assert filed(f"{spelled} Acme $5k pitch").request_type is request_type


@pytest.mark.parametrize(
    ("words", "request_type"),
    [
        ("case study", RequestType.CASE_STUDY),
        ("Case Study:", RequestType.CASE_STUDY),
        ("deal deck", RequestType.DEAL_DECK),
        ("business case", RequestType.ROI_CASE),
    ],
)
def test_two_word_types_are_understood(words: str, request_type: RequestType) -> None:
    draft = filed(f"{words} Acme $5k pitch")
    assert (draft.request_type, draft.account) == (request_type, "Acme")


def test_canonical_keywords_cover_every_type_once_in_display_order() -> None:
    assert list(TYPE_KEYWORDS) == [
        "deck",
        "objection",
        "casestudy",
        "roi",
        "competitive",
        "content",
        "event",
        "other",
    ]
    assert set(TYPE_KEYWORDS.values()) == set(RequestType)


def test_unknown_first_word_is_named_and_the_keywords_listed() -> None:
    assert error("foo Acme $5k") == (
        "I don't know the request type `foo`. Start with one of: deck, objection, casestudy, "
        "roi, competitive, content, event, other \u2014 or type `/mktg` alone to open the form."
    )


def test_unknown_first_word_is_escaped_in_the_error() -> None:
    message = error("<!channel> please")
    assert "<!channel>" not in message
    assert "`&lt;!channel&gt;`" in message


def test_backtick_in_unknown_word_cannot_break_out_of_the_code_span() -> None:
    message = error("f`oo` *bold*")
    assert message.count("`") == 4  # the word's span and the `/mktg` span


# --- subcommands ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["help", "HELP", "?", "help me", "Help?"])
def test_help_words_show_help(text: str) -> None:
    assert parse(text) == ShowHelp()


@pytest.mark.parametrize("text", ["mine", "list", "my", "my requests", "MINE"])
def test_list_words_list_my_requests(text: str) -> None:
    assert parse(text) == ListMine()


@pytest.mark.parametrize("reference", ["MS-12", "ms-12", "ms12", "#12", "12", "MS 12", "MS-012"])
def test_status_and_cancel_accept_every_reference_form(reference: str) -> None:
    assert parse(f"status {reference}") == ShowStatus(12)
    assert parse(f"cancel {reference}") == CancelRequest(12)


@pytest.mark.parametrize("text", ["status", "status foo", "status MS-", "status MS-0", "cancel"])
def test_missing_or_garbled_reference_asks_which_request(text: str) -> None:
    verb = text.split()[0]
    assert error(text) == f"Which request? Write it like `/mktg {verb} MS-12`."


@pytest.mark.parametrize(
    ("text", "number"),
    [("MS-12", 12), ("ms-12", 12), ("ms12", 12), ("#12", 12), ("12", 12), (" MS-7. ", 7)],
)
def test_reference_is_read(text: str, number: int) -> None:
    assert parse_reference(text) == number


@pytest.mark.parametrize(
    "text", ["", "MS-", "MS-0", "abc", "MS-1x", "MS-12345678901", "\u0661\u0662"]
)
def test_not_a_reference_is_none(text: str) -> None:
    assert parse_reference(text) is None


def test_reference_is_formatted_with_the_ms_prefix() -> None:
    assert format_reference(12) == "MS-12"
    assert parse_reference(format_reference(4321)) == 4321


# --- amounts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("$250k", 25_000_000),
        ("$250K", 25_000_000),
        ("$1.2m", 120_000_000),
        ("$1.5M", 150_000_000),
        ("$1.5mm", 150_000_000),
        ("$250,000", 25_000_000),
        ("$1,250,000", 125_000_000),
        ("$48000.50", 4_800_050),
        ("$48,000.50", 4_800_050),
        ("$2b", 200_000_000_000),
        ("$0", 0),
        ("$0.29", 29),
        ("$.5m", 50_000_000),
        ("$100b", MAX_AMOUNT_CENTS),
        ("250k", 25_000_000),
        (" $ 250k ", 25_000_000),
        ("$1.23456789m", 123_456_789),
    ],
)
def test_amounts_are_read_as_integer_cents(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


def test_amount_in_a_command_may_carry_trailing_punctuation() -> None:
    assert filed("deck Acme $250k, pitch").amount_cents == 25_000_000
    assert filed("deck Acme $ 250k pitch").amount_cents == 25_000_000


@pytest.mark.parametrize("text", ["$abc", "$1e99", "$inf", "$nan", "$1,2m", "$25,0000", "$1,00"])
def test_amount_with_letters_or_bad_commas_is_rejected_with_an_example(text: str) -> None:
    message = error(f"deck Acme {text} pitch")
    assert message == (
        f"I couldn't read the amount `{text}`. Write amounts like $250k, $1.2m or $48,000."
    )


@pytest.mark.parametrize("text", ["$-5", "-$5", "$-250k"])
def test_negative_amount_is_rejected(text: str) -> None:
    assert error(f"deck Acme {text} pitch").startswith("Amounts can't be negative")


@pytest.mark.parametrize("text", ["$1.234", "$0.001", "$1.2345678912m"])
def test_fractions_of_a_cent_are_rejected(text: str) -> None:
    assert "fractions of a cent" in error(f"deck Acme {text} pitch")


@pytest.mark.parametrize("text", ["$101b", "$100,000,000,000.01", "$" + "9" * 5000])
def test_amount_above_100_billion_is_too_large(text: str) -> None:
    assert error(f"deck Acme {text} pitch").startswith("That amount is too large")


def test_amount_error_from_the_modal_names_the_field_in_plain_text() -> None:
    with pytest.raises(UserError) as caught:
        parse_amount("<abc>", field="amount")
    assert caught.value.field == "amount"
    assert "`" not in caught.value.message
    assert "<abc>" in caught.value.message


def test_two_different_amounts_open_the_form_and_keep_both_in_the_details() -> None:
    result = form("deck Acme $250k pitch, they also mentioned $300k")
    assert result.draft.amount_cents is None
    assert result.draft.details is not None
    assert "$250k" in result.draft.details
    assert "$300k" in result.draft.details
    assert result.reason is not None
    assert "amount" in result.reason


def test_the_same_amount_written_twice_is_not_ambiguous() -> None:
    assert filed("deck Acme $250k pitch $250,000").amount_cents == 25_000_000


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (25_000_000, "$250,000"),
        (4_800_050, "$48,000.50"),
        (0, "$0"),
        (5, "$0.05"),
        (MAX_AMOUNT_CENTS, "$100,000,000,000"),
        (-500, "-$5"),
    ],
)
def test_money_is_formatted_with_thousands_separators(cents: int, text: str) -> None:
    assert format_money(cents) == text


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=MAX_AMOUNT_CENTS))
def test_formatted_money_reads_back_to_the_same_cents(cents: int) -> None:
    assert parse_amount(format_money(cents)) == cents
    assert parse_amount(format_money(cents).removeprefix("$")) == cents


# --- due dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-04", date(2026, 12, 4)),
        ("today", MONDAY),
        ("tomorrow", date(2026, 6, 2)),
        ("tmrw", date(2026, 6, 2)),
        ("fri", FRIDAY),
        ("Friday", FRIDAY),
        ("next fri", FRIDAY),
        ("on fri", FRIDAY),
        ("tue", date(2026, 6, 2)),
        ("sun", date(2026, 6, 7)),
        ("in 3 days", date(2026, 6, 4)),
        ("in 2 weeks", date(2026, 6, 15)),
        ("in a week", date(2026, 6, 8)),
        ("dec 4", date(2026, 12, 4)),
        ("4 dec", date(2026, 12, 4)),
        ("december 4", date(2026, 12, 4)),
        ("Dec 4th", date(2026, 12, 4)),
        ("dec 4 2026", date(2026, 12, 4)),
        ("dec 4, 2026", date(2026, 12, 4)),
        ("4 December 2026", date(2026, 12, 4)),
    ],
)
def test_due_date_forms_are_read(text: str, expected: date) -> None:
    assert due(text) == expected
    assert filed(f"deck Acme due {text} pitch").due_date == expected
    assert filed(f"deck Acme by {text} pitch").due_date == expected


def test_weekday_named_on_that_same_weekday_means_a_week_later() -> None:
    assert due("mon") == date(2026, 6, 8)
    assert due("fri", today=FRIDAY) == date(2026, 6, 12)
    assert due("next fri", today=FRIDAY) == date(2026, 6, 12)


def test_next_weekday_means_the_same_as_the_bare_weekday() -> None:
    for name in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]:
        assert due(f"next {name}") == due(name)


def test_month_day_already_past_this_year_rolls_into_next_year() -> None:
    assert due("jan 15", today=date(2026, 12, 20)) == date(2027, 1, 15)
    assert due("dec 19", today=date(2026, 12, 20)) == date(2027, 12, 19)
    assert due("dec 20", today=date(2026, 12, 20)) == date(2026, 12, 20)


def test_relative_dates_cross_the_year_boundary() -> None:
    new_years_eve = date(2026, 12, 31)  # a Thursday
    assert due("tomorrow", today=new_years_eve) == date(2027, 1, 1)
    assert due("fri", today=new_years_eve) == date(2027, 1, 1)
    assert due("in 2 weeks", today=new_years_eve) == date(2027, 1, 14)
    assert due("jan 2", today=new_years_eve) == date(2027, 1, 2)


def test_relative_dates_cross_the_quarter_boundary() -> None:
    quarter_end = date(2026, 3, 31)  # a Tuesday
    assert due("tomorrow", today=quarter_end) == date(2026, 4, 1)
    assert due("apr 1", today=quarter_end) == date(2026, 4, 1)
    assert due("mar 31", today=quarter_end) == quarter_end
    assert due("in 1 day", today=quarter_end) == date(2026, 4, 1)


def test_leap_day_is_found_when_it_exists() -> None:
    assert due("tomorrow", today=date(2028, 2, 28)) == date(2028, 2, 29)
    assert due("feb 29", today=date(2027, 3, 1)) == date(2028, 2, 29)
    assert due("2028-02-29") == date(2028, 2, 29)


@pytest.mark.parametrize("text", ["12/04", "04.12", "12-04", "4/12/2026", "12/04/26"])
def test_numeric_day_month_dates_are_refused_as_ambiguous(text: str) -> None:
    message = error(f"deck Acme due {text} pitch")
    assert "YYYY-MM-DD" in message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30", "There is no 30 February 2026."),
        ("2027-02-29", "There is no 29 February 2027."),
        ("feb 30", "There is no 30 February."),
        ("apr 31 2026", "There is no 31 April 2026."),
        ("2026-13-01", "There is no month 13"),
    ],
)
def test_impossible_dates_are_named(text: str, message: str) -> None:
    assert error(f"deck Acme due {text} pitch").startswith(message)


@pytest.mark.parametrize("text", ["2026-05-31", "may 31 2026", "2020-01-01", "0000-01-01"])
def test_due_date_in_the_past_is_rejected(text: str) -> None:
    assert error(f"deck Acme due {text} pitch").startswith("That due date is in the past")


@pytest.mark.parametrize("text", ["2028-06-02", "2062-01-01", "in 200 weeks", "in 999999 days"])
def test_due_date_more_than_two_years_ahead_is_rejected(text: str) -> None:
    assert "more than 2 years away" in error(f"deck Acme due {text} pitch")


def test_due_date_exactly_two_years_ahead_is_allowed() -> None:
    assert due("2028-06-01") == date(2028, 6, 1)


@pytest.mark.parametrize(
    ("text", "details"),
    [
        ("deck Acme $5k due diligence review", "due diligence review"),
        ("deck Acme $5k review by the CFO", "review by the CFO"),
        ("deck Acme $5k pitch due", "pitch due"),
    ],
)
def test_due_without_a_date_is_just_text(text: str, details: str) -> None:
    draft = filed(text)
    assert (draft.due_date, draft.details) == (None, details)


def test_two_different_due_dates_open_the_form() -> None:
    result = form("deck Acme due fri pitch, review by tomorrow")
    assert result.draft.due_date is None
    assert result.reason is not None
    assert "due date" in result.reason


def test_the_same_due_date_written_twice_is_not_ambiguous() -> None:
    assert filed("deck Acme due fri pitch by 2026-06-05").due_date == FRIDAY


def test_longest_date_reading_wins_so_the_year_is_not_left_behind() -> None:
    draft = filed("deck Acme due dec 4 2026 pitch")
    assert (draft.due_date, draft.details) == (date(2026, 12, 4), "pitch")


def test_due_date_parser_for_forms_reports_unreadable_text_on_the_field() -> None:
    with pytest.raises(UserError) as caught:
        parse_due_date("whenever", today=MONDAY, field="due")
    assert caught.value.field == "due"
    assert "couldn't read the due date" in caught.value.message


def test_check_due_date_is_shared_with_the_datepicker() -> None:
    assert check_due_date(MONDAY, today=MONDAY) == MONDAY
    with pytest.raises(UserError) as past:
        check_due_date(MONDAY - timedelta(days=1), today=MONDAY, field="due")
    assert past.value.field == "due"
    assert past.value.message.startswith("That due date is in the past")
    with pytest.raises(UserError):
        check_due_date(date(2028, 6, 2), today=MONDAY)


# --- CRM links and Slack markup -------------------------------------------------------

CRM = "https://acme.my.salesforce.com/006Hs00001AbCdE"


@pytest.mark.parametrize("link", [f"<{CRM}|{CRM}>", f"<{CRM}>", CRM, f"{CRM},"])
def test_crm_link_is_taken_out_of_the_free_text(link: str) -> None:
    draft = filed(f"deck Acme Corp {link} $5k pitch")
    assert draft.crm_link == CRM
    assert (draft.account, draft.details) == ("Acme Corp", "pitch")


def test_entities_in_a_link_are_unescaped() -> None:
    draft = filed("deck Acme $5k <https://crm.example/x?a=1&amp;b=2> pitch")
    assert draft.crm_link == "https://crm.example/x?a=1&b=2"


def test_auto_linked_bare_domain_stays_text() -> None:
    draft = filed("deck <http://acme.com|acme.com> $5k pitch")
    assert (draft.account, draft.crm_link) == ("acme.com", None)


def test_two_different_links_open_the_form() -> None:
    result = form("deck Acme $5k <https://a.example/1> <https://b.example/2>")
    assert result.draft.crm_link is None
    assert result.reason is not None
    assert "link" in result.reason


def test_stored_text_is_what_the_rep_typed() -> None:
    draft = filed("deck Acme &amp; Sons $5k Q&amp;A on &lt;pricing&gt; with <@U123|bob>")
    assert draft.account == "Acme & Sons"
    assert draft.details == "Q&A on <pricing> with <@U123|bob>"


def test_literal_entity_text_typed_by_the_rep_survives() -> None:
    # The rep typed "&lt;" literally; Slack sends "&amp;lt;".
    assert filed("deck Acme $5k write &amp;lt; in HTML").details == "write &lt; in HTML"


def test_quoted_text_is_never_read_as_an_amount() -> None:
    draft = filed('deck Acme $5k they said "$1m is too much"')
    assert draft.amount_cents == 500_000
    assert draft.details == 'they said "$1m is too much"'


# --- help -----------------------------------------------------------------------------


def test_help_text_covers_types_amounts_dates_and_subcommands() -> None:
    assert len(HELP_TEXT) < 3000
    for keyword, request_type in TYPE_KEYWORDS.items():
        assert f"`{keyword}`" in HELP_TEXT
        assert request_type.label in HELP_TEXT
    for needle in ["$250k", "due", "next fri", "in 3 days", "dec 4", "mine", "status", "cancel"]:
        assert needle in HELP_TEXT
    assert "<" not in HELP_TEXT.replace("&lt;", "")
    assert ">" not in HELP_TEXT.replace("&gt;", "")


@pytest.mark.parametrize("example", HELP_EXAMPLES)
def test_every_help_example_files_a_request(example: str) -> None:
    assert 3 <= len(HELP_EXAMPLES) <= 4
    assert f"/mktg {example}" in HELP_TEXT
    draft = filed(example)
    assert draft.account
    assert draft.details


# --- properties -----------------------------------------------------------------------

FRAGMENTS = [
    "deck", "roi", "case", "study", "help", "status", "cancel", "MS-12", "#3", "due", "by",
    "next", "in", "3", "days", "weeks", "fri", "dec", "4", "2026", "2026-12-04", "12/04",
    "$250k", "$1.2m", "$48,000.50", "$abc", "$-5", "$", "$1e99", "account:", ";", '"Acme',
    'Corp"', "\u201cAcme\u201d", "<@U123|bob>", "<!channel>", "<https://x.example/a|x>",
    "https://crm.example/1", "&amp;", "&lt;", "&gt;", "\n", "Acme", "Corp", "-", ",", "`",
    # hostile: controls, NUL, bidi and zero-width marks, odd spaces, emoji, astral, formulas
    "\x00", "\x07", "\x1b[31m", "\t", "\r\n", "\x0b", "\x85", "\u2028", "\u00a0",
    "\u3000", "\u202e", "\u200d", "\ufeff", "\U0001f469\u200d\U0001f467", "\U0001d518",
    "\u0301", "=HYPERLINK(\"http://x\",\"y\")", "+1", "@SUM(A1)", "*bold*", "<!here>",
    "<https://evil.example|click>", "＄５ｋ", "٣", "$٣k", "due\u00a0fri",
]  # fmt: skip
PINGS = ("<!channel>", "<!here>", "<@U123", "<https://")

command_text = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(codec="utf-8"), max_size=200),  # every plane, controls included
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=14).map(" ".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=20).map("".join),  # no spaces between
)


def _check_draft(draft: RequestDraft, today: date) -> None:
    assert draft.account is None or len(draft.account) <= 150
    # Whitespace in the account is collapsed to single spaces, so it is one clean line.
    assert draft.account is None or draft.account == " ".join(draft.account.split())
    assert draft.details is None or draft.details.strip()
    assert draft.due_date is None or today <= draft.due_date
    assert draft.amount_cents is None or 0 <= draft.amount_cents <= MAX_AMOUNT_CENTS
    assert draft.crm_link is None or draft.crm_link.startswith(("https://", "http://"))
    assert draft.crm_link is None or not any(char.isspace() for char in draft.crm_link)


@settings(max_examples=300, deadline=None)
@given(text=command_text, today=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_any_text_gives_a_command_or_a_user_error(text: str, today: date) -> None:
    result: MktgCommand | UserError
    try:
        result = parse_mktg_command(text, today=today)
    except UserError as caught:  # anything else escaping is a crash the rep would see
        result = caught
    if isinstance(result, UserError):
        assert result.message  # a refusal is fine, as long as it explains itself
        assert len(result.message) < 3000  # shown as one ephemeral message
        for ping in PINGS:  # the rep's text is quoted escaped, never live
            assert ping not in result.message
        return
    assert isinstance(result, MktgCommand)
    if isinstance(result, FileRequest):
        draft = result.draft
        assert draft.request_type is not None
        assert draft.account or draft.details
        _check_draft(draft, today)
    elif isinstance(result, OpenForm):
        _check_draft(result.draft, today)
    elif isinstance(result, ShowStatus | CancelRequest):
        assert 0 <= result.number < 10**9


@settings(max_examples=10, deadline=None)  # each example is a 100,000-character command
@given(
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8).map(" ".join),
    st.integers(min_value=1, max_value=40),
)
def test_a_huge_hostile_command_is_read_or_refused_without_crashing(piece: str, times: int) -> None:
    text = "deck Acme $5k " + (piece + " ") * (100_000 // (len(piece) + 1) // times + 1)
    result: MktgCommand | UserError
    try:
        result = parse_mktg_command(text[:100_000], today=MONDAY)
    except UserError as caught:
        result = caught
    if isinstance(result, UserError):
        assert len(result.message) < 3000
    elif isinstance(result, FileRequest | OpenForm):
        _check_draft(result.draft, MONDAY)
