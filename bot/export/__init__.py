"""The Excel workbook, written with openpyxl's write-only mode.

`workbook.build_workbook` is the entry point. `period` reads the dates an export covers;
`plan` fixes its windows and holds the KPIs that `kpis` gathers; `reading` pages through the
database; `sheets/` turns each sheet's rows into cell values (`cells`) laid out by `columns`;
`writer` owns the book in a thread or process and writes each `table`; `charts` draws the
weekly charts.
"""
