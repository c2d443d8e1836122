"""The seams between areas: imports point one way, and every area stands on the core.

An area is a package of campaign/ (core, ledger, board, timeline, half_monthly, home,
forecast), or
the top-level notifications/ and reports/ (the bulletins). The top-level modules of
campaign/ (rules, figures, tally, audit, display) are shared kernels, and the composition
roots (app.py, campaign/models.py, campaign/subscribers.py, campaign/demo.py,
campaign/backup.py, campaign/scheduler.py) may import everything: neither is an area.
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AREAS = {
    "campaign.core",
    "campaign.ledger",
    "campaign.board",
    "campaign.timeline",
    "campaign.half_monthly",
    "campaign.home",
    "campaign.forecast",
    "campaign.quality",
    "notifications",
    "reports",
}


def _area(module: str) -> str | None:
    for area in AREAS:
        if module == area or module.startswith(area + "."):
            return area
    return None


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (at any depth: a deferred import is still a dependency)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _graph() -> dict[str, dict[str, set[str]]]:
    """area -> the areas it imports -> the files that do."""
    edges: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for area in AREAS:
        folder = ROOT.joinpath(*area.split("."))
        for path in folder.rglob("*.py"):
            for module in _imports(path):
                target = _area(module)
                if target and target != area:
                    edges[area][target].add(str(path.relative_to(ROOT)))
    return edges


def _cycle(edges: dict[str, dict[str, set[str]]]) -> list[str] | None:
    """One cycle of the area graph (as a path that comes back to its start), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(area: str) -> list[str] | None:
        state[area] = "open"
        stack.append(area)
        for target in sorted(edges.get(area, {})):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        state[area] = "done"
        stack.pop()
        return None

    for area in sorted(AREAS):
        if area not in state and (found := visit(area)):
            return found
    return None


def test_no_two_areas_import_each_other_however_indirectly():
    edges = _graph()
    cycle = _cycle(edges)
    if cycle:
        steps = [
            f"{a} -> {b} ({', '.join(sorted(edges[a][b]))})"
            for a, b in zip(cycle, cycle[1:], strict=False)
        ]
        raise AssertionError("areas import each other in a cycle:\n" + "\n".join(steps))


def test_the_core_imports_no_area():
    edges = _graph()
    assert dict(edges.get("campaign.core", {})) == {}


def test_every_area_that_acts_on_another_does_it_through_an_event():
    """No area imports another's services to make something happen there: it publishes an
    event. Reading another area's models or queries is allowed only toward the core, the
    ledger (the organizations everything is about) and, for notifications and the
    bulletins, whatever they report on."""
    edges = _graph()
    allowed = {
        "campaign.board": {"campaign.core", "campaign.ledger", "campaign.forecast"},
        "campaign.ledger": {"campaign.core"},
        "campaign.timeline": {"campaign.core"},
        "campaign.half_monthly": {"campaign.core", "campaign.ledger"},
        # The homes read every area's queries to show each role its 待办 (nothing imports
        # them, so no cycle can form); every act stays on its own area's page.
        "campaign.home": {
            "campaign.core",
            "campaign.board",
            "campaign.ledger",
            "campaign.timeline",
            "campaign.half_monthly",
            "notifications",
            "reports",
            "campaign.forecast",
            "campaign.quality",
        },
        "campaign.forecast": {"campaign.core"},
        "campaign.quality": {"campaign.core", "campaign.ledger", "campaign.board"},
    }
    for area, targets in allowed.items():
        extra = set(edges.get(area, {})) - targets
        assert not extra, f"{area} imports {sorted(extra)}: publish an event instead"
