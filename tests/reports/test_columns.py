"""The bulletin's tables with their column widths set from their text (reports/columns.py).

The widths are worked out by hand for small tables; on whole bulletins the PDF still sets
every row on one line with each unit's name whole, also for a name far longer than the demo's.
"""

import pytest

from reports import columns, render
from tests.reports.test_bulletin import row
from tests.reports.test_document import document, text_of

# A cell's padding (3 pt either side) and its share of the rules (0.75 pt); text is 10.5 pt.
EXTRA = 6.75


def test_columns_that_fit_share_the_room_in_proportion_to_their_longest_lines():
    # 单位 | 数量 over 江岸区 | 12. Widest: the name 3 em = 31.5 + 6.75 = 38.25 pt, kept whole
    # so given half an em more: 43.5; 数量 2 em = 21 + 6.75 = 27.75 (12 is 2 × 0.56 em, less).
    rows = [[("单位", False), ("数量", False)], [("江岸区", True), ("12", False)]]
    assert columns.widths(rows, room=142.5) == pytest.approx([87.0, 55.5])  # 2 × each


def test_columns_too_wide_for_the_room_are_squeezed_between_narrowest_and_widest():
    # Narrowest: the name whole (43.5); 数量 may break after 数 (10.5 + 6.75 = 17.25), 12
    # may not (1.12 em: 11.76 + 6.75 = 18.51): 62.01 in all. Widest 71.25. In 66 pt the
    # 3.99 pt left over take each column 3.99 / 9.24 of the way from narrowest to widest:
    # only 数量 can grow, by exactly those 3.99.
    rows = [[("单位", False), ("数量", False)], [("江岸区", True), ("12", False)]]
    assert columns.widths(rows, room=66) == pytest.approx([43.5, 22.5])
    # Narrower than the narrowest: as narrow as each column can be (the table overflows).
    assert columns.widths(rows, room=50) == pytest.approx([43.5, 18.51])


def test_a_line_breaks_around_cjk_characters_and_never_inside_a_number():
    # （百分点）: the brackets stay with their characters, （百 and 点） are 2 em (21 + 6.75).
    # +30.0 does not break: 5 × 0.56 em = 29.4 + 6.75 = 36.15, its widest too.
    rows = [[("（百分点）", False), ("+30.0", False)]]
    assert columns.widths(rows, room=10) == pytest.approx([27.75, 36.15])


def test_a_header_broken_into_lines_is_as_wide_as_its_longest_line():
    # 党组织<br>覆盖率: 3 em (31.5 + 6.75 = 38.25), not 6; ↑2 is 1 + 0.56 em (23.13).
    rows = [
        [("党组织<br>覆盖率", False), ("名次<br>变化", False)],
        [("65.0%", False), ("↑2", False)],
    ]
    assert columns.widths(rows, room=100) == pytest.approx([100 * 38.25 / 66.0, 100 * 27.75 / 66.0])


def test_every_table_of_a_bulletin_gets_its_widths_and_a_merged_cell_keeps_the_automatic_layout():
    html = render.html(document())
    assert html.count("<table") == html.count('<table style="table-layout: fixed"><colgroup>') > 0
    merged = '<table><tr><td colspan="2">甲</td></tr><tr><td>1</td><td>2</td></tr></table>'
    assert columns.fixed(merged) == merged


LONG = "东湖新技术开发区管委会社会事务局"  # 16 characters, the demo's longest has 9


def test_a_long_unit_name_stays_whole_on_its_row():
    data = document()
    behind = next(u for u in data["units"] if not u["reaches"])
    behind["name"] = LONG
    text = text_of(render.pdf(render.html(data)).data, "-layout")
    # The ranking: 乙区, now LONG, from 1st to 3rd, 6 of 10 against 10 of 10 before.
    assert row(text, "3", "↓2", LONG, "10", "0", "60.0%", "-40.0", "100.0%", "100.0%", "0")
    # 三、未达目标的单位: 80 % of 10 is 8, 6 built, 2 to go.
    assert row(text, LONG, "10", "6", "60.0%", "2")
