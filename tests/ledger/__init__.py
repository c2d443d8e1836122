"""Ledger files (附表1/附表2): reading and checking real xlsx files, and the import flow."""
