"""Importing CRM exports: the files are built here the way Salesforce and HubSpot write them,
so the tests show what a RevOps admin can upload and what they are told back."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook
from sqlmodel import col, select

from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.models import LeadCount, Opportunity, Quota
from bot.crm.files import MAX_FILE_BYTES, read_table
from bot.crm.leads import import_leads
from bot.crm.opportunities import import_opportunities
from bot.crm.quotas import import_quotas, set_quota
from bot.crm.report import ImportReport, RejectedRow
from tests.support.workspace import TEAM_ID, FixedClock

OTHER_TEAM = "T0OTHER"

SALESFORCE_HEADER = [
    "Opportunity ID",
    "Opportunity Name",
    "Account Name",
    "Amount",
    "Stage",
    "Close Date",
    "Created Date",
    "Lead Source",
    "Opportunity Owner Email",
]


def xlsx(*sheets: tuple[str, list[list[Any]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(lines: list[str], *, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def salesforce_report() -> bytes:
    """A "Formatted report" export: title, filters, blank row, header, data, totals, footer."""
    return xlsx(
        (
            "Opportunity Pipeline",
            [
                ["Opportunity Pipeline"],
                ["Filtered By:"],
                ["    Close Date equals THIS FISCAL YEAR"],
                [],
                SALESFORCE_HEADER,
                [
                    "0065g00000AbCdE",
                    "Acme renewal",
                    "Acme Corp",
                    250000,
                    "Closed Won",
                    datetime(2026, 11, 20),
                    datetime(2026, 9, 1),
                    "Webinar",
                    "Rita.Rep@example.com",
                ],
                [
                    "0065g00000AbCdF",
                    "Globex expansion",
                    "Globex",
                    48000.5,
                    "Negotiation/Review",
                    datetime(2026, 12, 15),
                    datetime(2026, 10, 5),
                    "Partner Referral",
                    "sam@example.com",
                ],
                [],
                [
                    "0065g00000AbCdG",
                    "Initech pilot",
                    "Initech",
                    12000,
                    "Closed Lost",
                    datetime(2026, 11, 2),
                    datetime(2026, 8, 14),
                    "Trade Show",
                    None,
                ],
                ["Grand Totals (3 records)", None, None, 310000.5],
                [],
                ["Confidential Information - Do Not Distribute"],
                ["Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."],
            ],
        )
    )


async def opportunities(deps: Deps, team_id: str = TEAM_ID) -> dict[str, Opportunity]:
    async with deps.sessions() as session:
        rows = await session.exec(select(Opportunity).where(Opportunity.team_id == team_id))
        return {row.crm_id: row for row in rows.all()}


async def import_file(
    deps: Deps, data: bytes, filename: str, team_id: str = TEAM_ID, **kwargs: Any
) -> ImportReport:
    async with deps.sessions() as session:
        return await import_opportunities(
            session, team_id=team_id, data=data, filename=filename, now=deps.clock(), **kwargs
        )


# --------------------------------------------------------------------------------------
# Opportunities
# --------------------------------------------------------------------------------------


async def test_a_salesforce_report_with_title_rows_totals_and_footer_imports_every_deal(
    deps: Deps,
) -> None:
    report = await import_file(deps, salesforce_report(), "pipeline.xlsx")

    assert (report.imported, report.updated, report.unchanged, report.rejected) == (3, 0, 0, ())
    assert report.columns["crm_id"] == "Opportunity ID"
    assert report.columns["owner_email"] == "Opportunity Owner Email"
    stored = await opportunities(deps)
    acme = stored["0065g00000AbCdE"]
    assert (acme.name, acme.account, acme.amount_cents, acme.stage) == (
        "Acme renewal",
        "Acme Corp",
        25_000_000,
        "Closed Won",
    )
    assert (acme.close_date, acme.created_date) == (date(2026, 11, 20), date(2026, 9, 1))
    assert (acme.is_won, acme.is_closed, acme.marketing_sourced) == (True, True, True)
    assert acme.owner_email == "rita.rep@example.com"
    assert acme.imported_at == deps.clock()
    globex = stored["0065g00000AbCdF"]
    assert globex.amount_cents == 4_800_050
    assert (globex.is_won, globex.is_closed, globex.marketing_sourced) == (False, False, False)
    initech = stored["0065g00000AbCdG"]
    assert (initech.is_won, initech.is_closed, initech.marketing_sourced) == (False, True, True)


async def test_reimporting_the_same_file_changes_nothing(deps: Deps, clock: FixedClock) -> None:
    await import_file(deps, salesforce_report(), "pipeline.xlsx")
    before = await opportunities(deps)
    clock.advance(days=7)

    report = await import_file(deps, salesforce_report(), "pipeline.xlsx")

    assert (report.imported, report.updated, report.unchanged) == (0, 0, 3)
    after = await opportunities(deps)
    assert {key: row.model_dump() for key, row in after.items()} == {
        key: row.model_dump() for key, row in before.items()
    }


async def test_an_edited_amount_counts_as_updated_and_keeps_the_first_import_time(
    deps: Deps, clock: FixedClock
) -> None:
    header = ",".join(SALESFORCE_HEADER)
    first = csv_bytes(
        [
            header,
            "006A,Acme,Acme Corp,1000,Prospecting,12/01/2026,11/02/2026,Web,",
            "006B,Globex,Globex,2000,Prospecting,12/01/2026,11/02/2026,Web,",
        ]
    )
    edited = first.replace(b"006A,Acme,Acme Corp,1000", b"006A,Acme,Acme Corp,1500")
    await import_file(deps, first, "opps.csv")
    imported_at = deps.clock()
    clock.advance(days=1)

    report = await import_file(deps, edited, "opps.csv")

    assert (report.imported, report.updated, report.unchanged) == (0, 1, 1)
    acme = (await opportunities(deps))["006A"]
    assert acme.amount_cents == 150_000
    assert (acme.imported_at, acme.updated_at) == (imported_at, clock.now)


async def test_a_hubspot_deal_export_is_read_with_hubspot_column_names_and_values(
    deps: Deps,
) -> None:
    data = csv_bytes(
        [
            '"Record ID","Deal Name","Deal Stage","Amount","Close Date","Create Date",'
            '"Original Source"',
            '"18012345678","Acme - new logo","closedwon","12000","2026-11-04 10:32",'
            '"2026-09-01 08:00","PAID_SEARCH"',
            '"18012345679","Globex - upsell","Closed lost","9500.75","2026-11-05 00:00",'
            '"2026-10-01 09:15","REFERRALS"',
            '"18012345680","Initech","appointmentscheduled","","","2026-10-02 12:00",'
            '"DIRECT_TRAFFIC"',
        ]
    )

    report = await import_file(deps, data, "hubspot-crm-exports-all-deals-2026-11-24.csv")

    assert (report.imported, report.rejected) == (3, ())
    assert report.columns == {
        "crm_id": "Record ID",
        "name": "Deal Name",
        "amount": "Amount",
        "stage": "Deal Stage",
        "close_date": "Close Date",
        "created_date": "Create Date",
        "lead_source": "Original Source",
    }
    stored = await opportunities(deps)
    won, lost, open_deal = stored["18012345678"], stored["18012345679"], stored["18012345680"]
    assert (won.is_won, won.is_closed, won.marketing_sourced) == (True, True, True)
    assert (won.close_date, won.created_date) == (date(2026, 11, 4), date(2026, 9, 1))
    assert (lost.is_won, lost.is_closed, lost.marketing_sourced) == (False, True, False)
    assert lost.amount_cents == 950_075
    # A deal without an amount still counts as a deal (for conversion); its value is 0.
    assert (open_deal.amount_cents, open_deal.close_date, open_deal.is_closed) == (0, None, False)
    assert open_deal.marketing_sourced is True


async def test_bad_rows_are_listed_with_their_spreadsheet_row_numbers_and_good_rows_are_kept(
    deps: Deps,
) -> None:
    data = csv_bytes(
        [
            "Opportunity Pipeline",
            "",
            ",".join(SALESFORCE_HEADER),
            "006A,Acme,Acme Corp,$1,234.50,Prospecting,12/01/2026,11/02/2026,Web,",
            "006B,Globex,Globex,-500,Prospecting,12/01/2026,11/02/2026,Web,",
            "006C,Initech,Initech,abc,Prospecting,12/01/2026,11/02/2026,Web,",
            "006D,Umbrella,Umbrella,700,Prospecting,31/02/2026,11/02/2026,Web,",
            ",Nameless,Nobody,700,Prospecting,12/01/2026,11/02/2026,Web,",
            '006E,Hooli,Hooli,"USD 2,000",Prospecting,12/01/2026,11/02/2026,Web,',
        ]
    )
    # "$1,234.50" unquoted would split on its comma; quote it as Salesforce does.
    data = data.replace(b"$1,234.50", b'"$1,234.50"')

    report = await import_file(deps, data, "opps.csv")

    assert (report.imported, report.updated, report.unchanged) == (2, 0, 0)
    assert report.rejected == (
        RejectedRow(5, 'Amount "-500" is negative'),
        RejectedRow(
            6, 'Amount "abc" isn\'t a number I can read (write amounts like 1234.50 or $1,234.50)'
        ),
        RejectedRow(
            7,
            'Close Date "31/02/2026" isn\'t a date I can read '
            "(write dates as 2026-11-04, 11/04/2026 or 4 Nov 2026)",
        ),
        RejectedRow(8, "Opportunity ID is blank"),
    )
    stored = await opportunities(deps)
    assert {key: row.amount_cents for key, row in stored.items()} == {
        "006A": 123_450,
        "006E": 200_000,
    }
    summary = report.summary()
    assert "Opportunities: 2 new, 0 updated, 0 unchanged; 4 rows rejected." in summary
    assert 'Row 7: Close Date "31/02/2026"' in summary


async def test_the_footer_of_a_salesforce_csv_export_is_not_read_as_rows(deps: Deps) -> None:
    data = csv_bytes(
        [
            '"Opportunity ID","Opportunity Name","Amount","Created Date"',
            '"006A","Acme","$1,000.00","11/2/2026"',
            '""',
            '""',
            '"Pipeline report"',
            '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."',
            '"Confidential Information - Do Not Distribute"',
            '"Generated By:  Ada Admin  11/24/2026 3:00 PM"',
            '"Acme Inc."',
        ]
    )

    report = await import_file(deps, data, "report1700000000000.csv")

    assert (report.imported, report.rejected) == (1, ())


async def test_the_summary_lists_only_the_first_rejected_rows(deps: Deps) -> None:
    lines = [",".join(SALESFORCE_HEADER)] + [
        f"006{n},Deal {n},Acme,oops,Prospecting,12/01/2026,11/02/2026,Web," for n in range(30)
    ]

    report = await import_file(deps, csv_bytes(lines), "opps.csv")

    summary = report.summary(limit=5)
    assert "Row 2: Amount" in summary
    assert "Row 6: Amount" in summary
    assert "Row 7:" not in summary
    assert "…and 25 more rejected rows." in summary


async def test_a_file_with_no_recognisable_columns_raises_one_error_naming_what_is_needed(
    deps: Deps,
) -> None:
    data = csv_bytes(["Colour,Size,Weight", "red,10,3", "blue,12,4"])

    with pytest.raises(UserError) as raised:
        await import_file(deps, data, "inventory.csv")

    message = raised.value.message
    assert message.startswith("I couldn't find the columns I need in inventory.csv.")
    assert "Expected at least Opportunity ID (or Deal ID / Record ID), Amount and Created Date" in (
        message
    )
    assert 'found: "Colour", "Size", "Weight"' in message
    assert await opportunities(deps) == {}


async def test_a_payload_over_the_size_limit_is_refused_before_it_is_read(deps: Deps) -> None:
    # Zero bytes are not a workbook: reaching the parser would raise a different error.
    data = bytes(MAX_FILE_BYTES + 1)

    with pytest.raises(UserError) as raised:
        await import_file(deps, data, "huge.xlsx")
    with pytest.raises(UserError) as raised_by_reader:
        read_table(data, "huge.csv")

    assert raised.value.message == (
        "huge.xlsx is 51 MB; the limit is 50 MB. Export fewer columns or a shorter date range."
    )
    assert "the limit is 50 MB" in raised_by_reader.value.message


async def test_a_semicolon_csv_with_a_byte_order_mark_is_read(deps: Deps) -> None:
    data = "\ufeff" + "\r\n".join(
        [
            "Opportunity ID;Opportunity Name;Account Name;Amount;Created Date;Lead Source",
            "006A;Café expansion;Société Générale;1234.50;2026-11-02;Webinar",
        ]
    )

    report = await import_file(deps, data.encode("utf-8"), "export.csv")

    assert (report.imported, report.rejected) == (1, ())
    assert report.columns["crm_id"] == "Opportunity ID"  # not "\ufeffOpportunity ID"
    deal = (await opportunities(deps))["006A"]
    assert (deal.name, deal.account, deal.amount_cents) == (
        "Café expansion",
        "Société Générale",
        123_450,
    )


async def test_a_windows_1252_tab_separated_export_is_read(deps: Deps) -> None:
    data = csv_bytes(
        [
            "Opportunity ID\tOpportunity Name\tAmount\tCreated Date",
            "006A\tNestlé renewal – phase 2\t900\t4 Nov 2026",
        ],
        encoding="cp1252",
    )

    report = await import_file(deps, data, "export.csv")

    assert report.imported == 1
    deal = (await opportunities(deps))["006A"]
    assert (deal.name, deal.created_date) == ("Nestlé renewal – phase 2", date(2026, 11, 4))


async def test_dates_are_read_in_the_formats_crm_exports_use(deps: Deps) -> None:
    written = {
        "A": "2026-11-04",
        "B": "2026-11-04T10:32:00Z",
        "C": "11/04/2026",
        "D": "11/4/26",
        "E": "4 Nov 2026",
        "F": "04-Nov-2026",
        "G": "Nov 4, 2026",
        "H": "November 4 2026",
        "I": "11/4/2026 3:15 PM",
    }
    lines = ["Opportunity ID,Amount,Created Date"] + [
        f'{key},1,"{value}"' for key, value in written.items()
    ]

    report = await import_file(deps, csv_bytes(lines), "dates.csv")

    assert (report.imported, report.rejected) == (len(written), ())
    stored = await opportunities(deps)
    assert {row.created_date for row in stored.values()} == {date(2026, 11, 4)}


async def test_duplicate_ids_in_one_file_keep_the_last_row_and_are_reported(deps: Deps) -> None:
    data = csv_bytes(
        [
            "Opportunity ID,Opportunity Name,Amount,Created Date",
            "006A,Acme v1,100,2026-11-02",
            "006B,Globex,200,2026-11-02",
            "006A,Acme v2,300,2026-11-03",
        ]
    )

    report = await import_file(deps, data, "opps.csv")

    assert (report.imported, report.rejected) == (2, ())
    assert report.duplicates == (
        RejectedRow(2, 'Opportunity ID "006A" appears again in row 4; row 4 was used'),
    )
    assert (await opportunities(deps))["006A"].amount_cents == 30_000
    assert "Row 2: Opportunity ID" in report.summary()


async def test_salesforce_18_character_ids_update_the_rows_a_report_imported_with_15(
    deps: Deps,
) -> None:
    header = "Opportunity ID,Amount,Created Date"
    await import_file(deps, csv_bytes([header, "0065g00000AbCdE,100,2026-11-02"]), "a.csv")

    report = await import_file(
        deps, csv_bytes([header, "0065g00000AbCdEAAV,200,2026-11-02"]), "b.csv"
    )

    assert (report.imported, report.updated) == (0, 1)
    assert list(await opportunities(deps)) == ["0065g00000AbCdE"]


async def test_without_an_id_column_rows_are_matched_by_name_account_and_created_date(
    deps: Deps,
) -> None:
    data = csv_bytes(
        [
            "Opportunity Owner,Account Name,Opportunity Name,Stage,Amount,Close Date,"
            "Created Date,Lead Source",
            "Rita Rep,Acme Corp,Acme renewal,Prospecting,1000,12/01/2026,11/02/2026,Web",
            "Rita Rep,Globex,,Prospecting,1000,12/01/2026,11/02/2026,Web",
        ]
    )

    first = await import_file(deps, data, "default-report.csv")
    again = await import_file(deps, data, "default-report.csv")

    assert (first.imported, again.unchanged) == (1, 1)
    assert first.rejected == (
        RejectedRow(
            3,
            "Opportunity Name is blank and the file has no ID column, "
            "so I can't tell which opportunity this is",
        ),
    )
    assert "no Opportunity ID column" in first.summary()


async def test_a_file_in_two_currencies_rejects_the_rows_in_the_second(deps: Deps) -> None:
    data = csv_bytes(
        [
            "Opportunity ID,Amount,Created Date",
            '006A,"USD 1,000.00",2026-11-02',
            '006B,"EUR 900.00",2026-11-02',
        ]
    )

    report = await import_file(deps, data, "opps.csv")

    assert report.imported == 1
    assert report.rejected == (
        RejectedRow(
            3,
            'Amount "EUR 900.00" is in EUR but earlier rows are in USD; '
            "export the Amount (converted) column instead",
        ),
    )


async def test_marketing_sources_can_be_chosen_per_import(deps: Deps) -> None:
    data = csv_bytes(
        [
            "Opportunity ID,Amount,Created Date,Lead Source",
            "006A,1,2026-11-02,Partner Referral",
            "006B,1,2026-11-02,Webinar",
        ]
    )

    await import_file(deps, data, "opps.csv", marketing_sources=["partner referral"])

    stored = await opportunities(deps)
    assert (stored["006A"].marketing_sourced, stored["006B"].marketing_sourced) == (True, False)


async def test_imports_are_kept_apart_per_workspace(deps: Deps) -> None:
    await import_file(deps, salesforce_report(), "pipeline.xlsx")

    report = await import_file(deps, salesforce_report(), "pipeline.xlsx", team_id=OTHER_TEAM)

    assert report.imported == 3
    assert len(await opportunities(deps, OTHER_TEAM)) == 3


async def test_a_large_reimport_with_one_edit_updates_just_that_row(deps: Deps) -> None:
    header = "Opportunity ID,Amount,Created Date"
    rows = [f"006{n:06d},{n},2026-11-02" for n in range(3_000)]
    await import_file(deps, csv_bytes([header, *rows]), "opps.csv")
    await import_file(deps, csv_bytes([header, *rows[1230:1240]]), "opps.csv", team_id=OTHER_TEAM)
    rows[1234] = "006001234,99999,2026-11-02"

    report = await import_file(deps, csv_bytes([header, *rows]), "opps.csv")

    assert (report.imported, report.updated, report.unchanged) == (0, 1, 2_999)
    assert (await opportunities(deps))["006001234"].amount_cents == 9_999_900
    assert (await opportunities(deps, OTHER_TEAM))["006001234"].amount_cents == 123_400


async def test_a_workbook_with_several_sheets_uses_the_one_with_the_opportunities(
    deps: Deps,
) -> None:
    data = xlsx(
        ("Summary", [["Pipeline summary"], ["Total", 100]]),
        (
            "Opportunities",
            [["Opportunity ID", "Amount", "Created Date"], ["006A", 5, "2026-11-02"]],
        ),
    )

    report = await import_file(deps, data, "book.xlsx")

    assert report.imported == 1


async def test_a_large_workbook_imports_every_row_and_reimports_unchanged(deps: Deps) -> None:
    # Large enough to cross the importer's batches; its speed is measured by bench, not here.
    rows = 5_000
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Report")
    sheet.append(SALESFORCE_HEADER)
    for n in range(rows):
        sheet.append(
            [
                f"006{n:012d}",
                f"Deal {n}",
                f"Account {n % 500}",
                1000 + n,
                "Prospecting" if n % 3 else "Closed Won",
                datetime(2026, 12, 1),
                datetime(2026, 1 + n % 12, 1 + n % 28),
                "Webinar" if n % 2 else "Partner",
                f"rep{n % 20}@example.com",
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)

    report = await import_file(deps, buffer.getvalue(), "big.xlsx")
    again = await import_file(deps, buffer.getvalue(), "big.xlsx")

    assert (report.imported, report.rejected) == (rows, ())
    assert (again.imported, again.updated, again.unchanged) == (0, 0, rows)


# --------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------


def test_read_table_numbers_rows_as_excel_shows_them_and_skips_blank_and_total_rows() -> None:
    header, rows = read_table(salesforce_report(), "pipeline.xlsx")

    assert header == SALESFORCE_HEADER
    assert [number for number, _ in rows] == [6, 7, 9]


def test_an_unknown_file_type_is_refused() -> None:
    with pytest.raises(UserError, match=r"I can read \.xlsx and \.csv files; deals\.pdf"):
        read_table(b"%PDF-1.7", "deals.pdf")


def test_a_damaged_workbook_is_refused_in_words() -> None:
    with pytest.raises(UserError, match=r"couldn't open deals\.xlsx as an Excel workbook"):
        read_table(b"not a zip file", "deals.xlsx")


# --------------------------------------------------------------------------------------
# Quotas
# --------------------------------------------------------------------------------------


async def quotas(deps: Deps) -> dict[tuple[str, str], int]:
    async with deps.sessions() as session:
        rows = await session.exec(select(Quota).where(Quota.team_id == TEAM_ID))
        return {(row.quarter, row.owner): row.amount_cents for row in rows.all()}


async def test_a_quota_sheet_sets_team_and_per_owner_quotas(deps: Deps) -> None:
    data = xlsx(
        (
            "Quotas",
            [
                ["Quarter", "Owner Email", "Quota"],
                ["2026-Q4", None, "$1,000,000"],
                ["Q4 2026", "Rita.Rep@example.com", 250000],
                ["FY26 Q4", "sam@example.com", 100000],
                ["2027-Q1", "not an email", 100000],
            ],
        )
    )

    async with deps.sessions() as session:
        report = await import_quotas(
            session, team_id=TEAM_ID, data=data, filename="quotas.xlsx", now=deps.clock()
        )
        again = await import_quotas(
            session, team_id=TEAM_ID, data=data, filename="quotas.xlsx", now=deps.clock()
        )

    assert (report.imported, again.unchanged, again.imported) == (2, 2, 0)
    assert [problem.row for problem in report.rejected] == [4, 5]
    assert "FY26 Q4" in report.rejected[0].reason
    assert "isn't an e-mail address" in report.rejected[1].reason
    assert await quotas(deps) == {
        ("2026-Q4", "*"): 100_000_000,
        ("2026-Q4", "rita.rep@example.com"): 25_000_000,
    }


async def test_set_quota_updates_one_quota_and_refuses_fiscal_labels(deps: Deps) -> None:
    async with deps.sessions() as session:
        await set_quota(
            session, team_id=TEAM_ID, quarter="Q4 2026", amount_cents=100, now=deps.clock()
        )
        quota = await set_quota(
            session, team_id=TEAM_ID, quarter="2026-Q4", amount_cents=200, now=deps.clock()
        )
        with pytest.raises(UserError) as raised:
            await set_quota(
                session, team_id=TEAM_ID, quarter="FY26 Q4", amount_cents=1, now=deps.clock()
            )

    assert (quota.quarter, quota.owner, quota.amount_cents) == ("2026-Q4", "*", 200)
    assert raised.value.field == "quarter"
    assert await quotas(deps) == {("2026-Q4", "*"): 200}


# --------------------------------------------------------------------------------------
# Leads
# --------------------------------------------------------------------------------------


async def lead_counts(deps: Deps) -> dict[date, tuple[int, int]]:
    async with deps.sessions() as session:
        rows = await session.exec(
            select(LeadCount)
            .where(LeadCount.team_id == TEAM_ID)
            .order_by(col(LeadCount.week_start))
        )
        return {row.week_start: (row.leads, row.qualified) for row in rows.all()}


async def import_lead_file(deps: Deps, data: bytes, filename: str) -> ImportReport:
    async with deps.sessions() as session:
        return await import_leads(
            session, team_id=TEAM_ID, data=data, filename=filename, now=deps.clock()
        )


async def test_a_leads_report_is_counted_per_iso_week_of_the_created_date(deps: Deps) -> None:
    data = csv_bytes(
        [
            "Lead ID,Created Date,Lead Status,Lead Source",
            "00Q1,11/23/2026,MQL,Webinar",  # Monday
            "00Q2,11/29/2026,Unqualified,Web",  # Sunday: same ISO week
            "00Q3,11/30/2026,Sales Qualified Lead,Web",  # next Monday
            "00Q4,12/02/2026,Working - Contacted,Web",
            "00Q5,12/03/2026,Closed - Converted,Web",
            "00Q6,someday,MQL,Web",
        ]
    )

    report = await import_lead_file(deps, data, "leads.csv")

    assert await lead_counts(deps) == {date(2026, 11, 23): (2, 1), date(2026, 11, 30): (3, 2)}
    assert (report.kind, report.imported) == ("leads", 2)
    assert [problem.row for problem in report.rejected] == [7]
    assert "Weekly lead counts: 2 new" in report.summary()


async def test_a_weekly_lead_sheet_replaces_only_the_weeks_it_covers(deps: Deps) -> None:
    first = xlsx(
        (
            "Leads",
            [
                ["Week", "Leads", "Qualified"],
                [datetime(2026, 11, 16), 40, 10],
                [datetime(2026, 11, 23), 50, 12],
            ],
        )
    )
    correction = xlsx(
        (
            "Leads",
            [
                ["Week", "Leads", "Qualified"],
                [datetime(2026, 11, 25), 55, 12],  # a Wednesday: the week of 23 November
                ["2026-W49", 30, 40],  # more qualified than leads
            ],
        )
    )
    await import_lead_file(deps, first, "weekly.xlsx")

    report = await import_lead_file(deps, correction, "weekly.xlsx")

    assert (report.imported, report.updated, report.unchanged) == (0, 1, 0)
    assert report.rejected == (RejectedRow(3, "Qualified (40) is more than Leads (30)"),)
    assert await lead_counts(deps) == {date(2026, 11, 16): (40, 10), date(2026, 11, 23): (55, 12)}


async def test_a_file_that_is_neither_kind_of_lead_sheet_is_refused(deps: Deps) -> None:
    with pytest.raises(UserError, match="Expected either a leads report with Created Date"):
        await import_lead_file(deps, csv_bytes(["Name,Email", "Ann,ann@example.com"]), "x.csv")
