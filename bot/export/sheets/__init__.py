"""The workbook's sheets, one module each: the rows a sheet shows, read from the database (or
taken from the KPI steps) and turned into plain cell values; `summary` writes its own sheet."""
