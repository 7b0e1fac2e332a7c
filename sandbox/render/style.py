"""The stylesheet for the `bk-` classes."""

from __future__ import annotations

STYLESHEET = """
.bk-blocks{font:15px/1.46 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1d1c1d}
.bk-block{margin:4px 0}
.bk-header-text{font-size:18px;font-weight:900;margin:8px 0 4px}
.bk-divider-line{border:0;border-top:1px solid #ddd;margin:8px 0}
.bk-section{display:flex;gap:12px;align-items:flex-start}
.bk-section-text,.bk-section-fields{flex:1}
.bk-section-fields{display:grid;grid-template-columns:1fr 1fr;gap:8px 16px}
.bk-context{display:flex;gap:6px;align-items:center;font-size:13px;color:#616061}
.bk-actions{display:flex;flex-wrap:wrap;gap:8px}
.bk-button{border:1px solid #bbb;border-radius:4px;background:#fff;padding:4px 12px;font-weight:700}
.bk-button-primary{background:#007a5a;border-color:#007a5a;color:#fff}
.bk-button-danger{background:#e01e5a;border-color:#e01e5a;color:#fff}
.bk-overflow{position:relative;display:inline-block}
.bk-overflow-menu{list-style:none;margin:0;padding:4px;border:1px solid #ddd;background:#fff}
.bk-image-placeholder{display:inline-flex;align-items:center;justify-content:center;
  min-width:48px;min-height:48px;padding:4px;background:#f4f4f4;border:1px dashed #bbb;
  color:#616061;font-size:12px}
.bk-image-box{width:100%;min-height:160px}
.bk-context-image{min-width:20px;min-height:20px;font-size:10px}
.bk-input-label{display:block;font-weight:700;margin-bottom:4px}
.bk-optional,.bk-input-hint{color:#616061;font-weight:400;font-size:13px}
.bk-control,.bk-select{width:100%;box-sizing:border-box;padding:6px;border:1px solid #bbb;border-radius:4px}
.bk-input-has-error .bk-control,.bk-input-has-error .bk-select{border-color:#e01e5a}
.bk-input-error{color:#e01e5a;font-size:13px;margin-top:4px}
.bk-choice{display:block}
.bk-choice-description{display:block;color:#616061;font-size:13px;margin-left:22px}
.bk-mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px}
.bk-code{font-family:Monaco,Menlo,monospace;font-size:12px;background:#f6f6f6;
  border:1px solid #ddd;border-radius:3px;padding:0 3px;color:#e01e5a}
.bk-pre,.bk-rt-pre{font-family:Monaco,Menlo,monospace;font-size:12px;background:#f8f8f8;
  border:1px solid #ddd;border-radius:4px;padding:8px;white-space:pre-wrap;margin:4px 0}
.bk-quote,.bk-rt-quote{border-left:4px solid #ddd;margin:4px 0;padding-left:12px}
.bk-link-unsafe{text-decoration:underline dotted}
.bk-unsupported{border:1px dashed #e01e5a;color:#e01e5a;padding:4px 8px;font-size:13px}
.bk-view{border:1px solid #ddd;border-radius:8px;background:#fff;max-width:520px}
.bk-view-home{max-width:none;border:0}
.bk-view-header{padding:12px 16px;border-bottom:1px solid #ddd}
.bk-view-title{font-size:20px;margin:0}
.bk-view-body{padding:12px 16px}
.bk-view-footer{display:flex;justify-content:flex-end;gap:8px;padding:12px 16px;
  border-top:1px solid #ddd}
"""
"""A default look for the ``bk-`` classes, for the sandbox page's <style> element."""
