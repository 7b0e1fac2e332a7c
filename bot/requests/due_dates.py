"""Reading due dates the way reps type them (`fri`, `dec 4`, `in 2 weeks`, `2026-12-04`).

Shared by the one-line `/mktg` grammar and the request form's due-date field, so both accept
and refuse exactly the same dates. Forgiving about form, strict about meaning: a date that
could be read two ways (`12/04`) or cannot exist (30 February) is refused with a message the
rep can act on, never guessed. Pure: `today` is always an argument.
"""

import re
from datetime import date, timedelta
from typing import Final

from bot.core.errors import UserError
from bot.core.text import quote_input, unescape_slack

__all__ = ["MAX_DUE_YEARS", "check_due_date", "date_word", "parse_due_date", "read_date_words"]

# A due date further out than this is almost always a typo (2062 for 2026).
MAX_DUE_YEARS: Final = 2

_MONTH_NAMES: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTHS: dict[str, int] = {
    **{name.lower(): number for number, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3].lower(): number for number, name in enumerate(_MONTH_NAMES, start=1)},
    "sept": 9,
}
_WEEKDAYS: dict[str, int] = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip
# Largest day number each month can ever have (29 for February: leap years exist).
_MAX_DAY: Final = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_DATE_EXAMPLE: Final = "2026-12-04"

_ISO_RE: Final = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})", re.ASCII)
# Day-first or month-first? 12/04 is 12 April in London and 4 December in New York. We
# cannot know, and a wrong due date is worse than a question, so all of these are refused.
_NUMERIC_DATE_RE: Final = re.compile(
    r"[0-9]{1,2}[-/.][0-9]{1,2}(?:[-/.][0-9]{2}(?:[0-9]{2})?)?", re.ASCII
)
_DAY_RE: Final = re.compile(r"([0-9]{1,2})(?:st|nd|rd|th)?", re.ASCII)
_YEAR_RE: Final = re.compile(r"[0-9]{4}", re.ASCII)
_COUNT_RE: Final = re.compile(r"[0-9]{1,6}", re.ASCII)
_TODAY_WORDS: Final = frozenset({"today", "eod"})
_TOMORROW_WORDS: Final = frozenset({"tomorrow", "tmrw", "tmr", "tmw"})
_DAY_UNITS: Final = {"day": 1, "days": 1, "week": 7, "weeks": 7, "wk": 7, "wks": 7}
_ONE_WORDS: Final = frozenset({"a", "an", "one"})


def _format_date(day: date) -> str:
    """`4 December 2026`: spelled out so it cannot be misread, and locale-independent."""
    return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February; or past year 9999
        if day.year + years > date.max.year:
            return date.max
        return day.replace(year=day.year + years, day=28)


def check_due_date(due: date, *, today: date, field: str | None = None) -> date:
    """Refuse due dates in the past or more than two years out; shared with the modal."""
    if due < today:
        raise UserError(
            f"That due date is in the past ({_format_date(due)}). Pick today or a later day.",
            field,
        )
    latest = _add_years(today, MAX_DUE_YEARS)
    if due > latest:
        raise UserError(_too_far(latest), field)
    return due


def _too_far(latest: date) -> str:
    return (
        f"That due date is more than {MAX_DUE_YEARS} years away. "
        f"Pick a day on or before {_format_date(latest)}."
    )


def _days_after(today: date, days: int, field: str | None) -> date:
    try:
        return today + timedelta(days=days)
    except OverflowError:
        raise UserError(_too_far(_add_years(today, MAX_DUE_YEARS)), field) from None


def _next_weekday(today: date, weekday: int, field: str | None) -> date:
    """The next such day strictly after today: on a Friday, "fri" means a week later,
    because nobody asks marketing for something due "Friday" meaning today."""
    return _days_after(today, (weekday - today.weekday() - 1) % 7 + 1, field)


def _exact_date(year: int, month: int, day: int, shown: str, field: str | None) -> date:
    if not 1 <= month <= 12:
        raise UserError(
            f"There is no month {month} in {quote_input(shown, field)}. "
            f"Write dates as YYYY-MM-DD, like {_DATE_EXAMPLE}.",
            field,
        )
    try:
        return date(year, month, day)
    except ValueError:
        pass
    if year < date.min.year:
        raise UserError("That due date is in the past. Pick today or a later day.", field)
    raise UserError(
        f"There is no {day} {_MONTH_NAMES[month - 1]} {year}. Check the date and write it "
        f"like {_DATE_EXAMPLE}.",
        field,
    )


def _month_day(
    month: int, day: int, year: int | None, today: date, shown: str, field: str | None
) -> date:
    """`dec 4` / `4 dec 2026`. Without a year: the next 4 December on or after today, so
    "due jan 15" typed in December means next January, not eleven months ago."""
    if year is not None:
        return _exact_date(year, month, day, shown, field)
    if not 1 <= day <= _MAX_DAY[month - 1]:
        raise UserError(
            f"There is no {day} {_MONTH_NAMES[month - 1]}. Check the date and write it "
            f"like {_DATE_EXAMPLE}.",
            field,
        )
    # 29 February may be up to 8 years away (1896 → 1904); anything found is then held
    # to the two-year limit by check_due_date like every other date.
    for candidate_year in range(today.year, min(today.year + 9, date.max.year + 1)):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise UserError(_too_far(_add_years(today, MAX_DUE_YEARS)), field)


def date_word(text: str) -> str:
    """Lower-case a word and drop punctuation that sits around dates in prose.

    Apply it to each word before `read_date_words`, which expects words in this form.
    """
    return unescape_slack(text).lower().strip("(").rstrip(".,;:!?)")


def read_date_words(words: list[str], today: date, field: str | None) -> date | None:
    """Read 1–3 words (each passed through `date_word`) as a due date.

    Returns None when the words are not a date at all (so "due diligence" stays text), and
    raises UserError when they clearly are one but a wrong one (30 February, 12/04, past).
    """
    found = _read_date(words, today, field)
    return None if found is None else check_due_date(found, today=today, field=field)


def _read_date(words: list[str], today: date, field: str | None) -> date | None:
    shown = " ".join(words)
    if len(words) == 1:
        word = words[0]
        if word in _TODAY_WORDS:
            return today
        if word in _TOMORROW_WORDS:
            return _days_after(today, 1, field)
        if word in _WEEKDAYS:
            return _next_weekday(today, _WEEKDAYS[word], field)
        if iso := _ISO_RE.fullmatch(word):
            year, month, day = (int(part) for part in iso.groups())
            return _exact_date(year, month, day, shown, field)
        if _NUMERIC_DATE_RE.fullmatch(word):
            raise UserError(
                f"I can't tell which day {quote_input(word, field)} is: day and month are written "
                f"in different orders in different countries. Write the due date as "
                f"YYYY-MM-DD, like {_DATE_EXAMPLE}.",
                field,
            )
        return None
    if len(words) == 2:
        first, second = words
        # "next fri" is read exactly like "fri" (the next Friday after today). People split
        # on whether "next Friday" said on a Monday means 4 or 11 days away; the earlier
        # reading is the one a rep can still correct before it is late, and the date is
        # shown back to them on the confirmation.
        if first in {"next", "this", "on"} and second in _WEEKDAYS:
            return _next_weekday(today, _WEEKDAYS[second], field)
        return _month_and_day(first, second, None, today, shown, field)
    if len(words) == 3:
        first, second, third = words
        if first == "in" and third in _DAY_UNITS:
            if second in _ONE_WORDS:
                count = 1
            elif _COUNT_RE.fullmatch(second):
                count = int(second)
            else:
                return None
            days = count * _DAY_UNITS[third]
            if days > 366 * (MAX_DUE_YEARS + 1):  # refuse before date arithmetic overflows
                raise UserError(_too_far(_add_years(today, MAX_DUE_YEARS)), field)
            return _days_after(today, days, field)
        if _YEAR_RE.fullmatch(third):
            return _month_and_day(first, second, int(third), today, shown, field)
    return None


def _month_and_day(
    first: str, second: str, year: int | None, today: date, shown: str, field: str | None
) -> date | None:
    """`dec 4` or `4 dec` (with ordinals: `dec 4th`)."""
    if first in _MONTHS and (day := _DAY_RE.fullmatch(second)):
        return _month_day(_MONTHS[first], int(day.group(1)), year, today, shown, field)
    if second in _MONTHS and (day := _DAY_RE.fullmatch(first)):
        return _month_day(_MONTHS[second], int(day.group(1)), year, today, shown, field)
    return None


def parse_due_date(text: str, *, today: date, field: str | None = None) -> date:
    """Read the forms that may follow "due": `2026-12-04`, `tomorrow`, `fri`, `next fri`,
    `in 3 days`, `in 2 weeks`, `dec 4`, `4 dec 2026`; then apply `check_due_date`."""
    words = [date_word(word) for word in text.split()]
    if words and words[0] == "on":  # "on fri", "on dec 4"
        words = words[1:]
    found = read_date_words(words, today, field) if 1 <= len(words) <= 3 else None
    if found is None:
        raise UserError(
            f"I couldn't read the due date {quote_input(text, field)}. Write it like "
            f"{_DATE_EXAMPLE}, dec 4, fri, tomorrow or in 3 days.",
            field,
        )
    return found
