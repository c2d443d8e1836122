"""Tests of /api/v1."""
