"""CRM report files in (Salesforce, HubSpot; .xlsx or .csv): opportunities, quotas and leads out.

The imports are forgiving about form but strict about meaning: a row that cannot be read is
listed with its spreadsheet row number and the reason while every good row is kept, so a
10,000-row export with three typos still imports and the person knows which three cells to fix.

    files          reading .xlsx/.csv exports: header search, footers, size limits
    columns        Salesforce/HubSpot column names for each field
    cells          one cell: text, money, dates, yes/no, counts
    opportunities  the opportunity import (upsert by CRM id)
    quotas         the quota import and `set_quota`
    leads          weekly lead counts from a leads report or a weekly sheet
    report         what an import did (`ImportReport`), and the plan behind it
    store          batched upserts on SQLite and PostgreSQL
"""
