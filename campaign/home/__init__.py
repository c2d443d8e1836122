"""The home pages (campaign/home/views.py)."""
