"""Bulletins (通报): data snapshot (pure) -> HTML (Jinja2) -> PDF (WeasyPrint)."""
