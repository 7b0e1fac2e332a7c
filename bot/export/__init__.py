"""The Excel workbook: the export period, its sheets, cells and charts, written with openpyxl's
write-only mode.
"""
