"""统一社会信用代码 (GB 32100-2015): 18 characters, the last a mod-31 check character.

Ours, not python-stdnum's ``cn.uscc``: that one agrees on every code of the tests, seeds, demo
and bench, but refuses any code with a letter in its first 8 characters, which GB 32100 allows
for the registration authority and category (Y 其他; N 农业, e.g. N2 村级集体经济组织), and it
costs about 8 times as much per code (10.5 µs against 1.3 µs: 0.5 s in a 50,000-row import).
"""

from operator import mul

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organization code, positions 9-17


_ALLOWED = frozenset(ALPHABET)


def check_character(first17: str) -> str:
    """The 18th character for the first 17; KeyError on a character outside the code set."""
    if len(first17) != len(WEIGHTS):
        raise ValueError(f"check_character needs 17 characters, not {len(first17)}")
    # map() keeps the per-character work in C: an import checks 50,000 codes.
    total = sum(map(mul, map(_VALUE.__getitem__, first17), WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """What is wrong with ``code`` in Chinese, or None if it is a valid credit code."""
    if len(code) != 18:
        return f"应为18位，实为{len(code)}位"
    if not _ALLOWED.issuperset(code):
        bad = next(c for c in code if c not in _ALLOWED)
        return f"含有不允许的字符“{bad}”"
    if check_character(code[:17]) != code[17]:
        return "校验位错误"
    return None


def organization_code(body8: str) -> str:
    """An 8-character GB 11714 body with its check character (digits and letters A-Z)."""
    values = [int(c, 36) for c in body8]
    check = 11 - sum(v * w for v, w in zip(values, _ORG_WEIGHTS, strict=True)) % 11
    return body8 + {10: "X", 11: "0"}.get(check, str(check))


def make(serial: int, region: str = "420100", kind: str = "91") -> str:
    """A well-formed code for synthetic data: authority+category, region, serial, checks."""
    first17 = kind + region + organization_code(f"{serial:08d}")
    return first17 + check_character(first17)
