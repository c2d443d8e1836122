"""The campaign itself, and what every area stands on.

Campaign, its settings and phases; units, users and roles; the vocabularies; the clock,
configuration, database base and extensions; the one commit path, errors, permissions,
pagination, text and file checks; the event bus. Every area imports from here; nothing
here imports an area.
"""
