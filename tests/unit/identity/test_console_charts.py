"""The console's charts laid out on the server: a round scale, stacked bars in proportion,
the largest series coloured and the rest summed, and a table of the same numbers."""

from __future__ import annotations

from datetime import date

from audit.statistics import DailyCount, log_activity
from identity.http.console.charts import MAX_SERIES, PALETTE, stacked_chart

DAYS = [("2026-12-07", "7 Des"), ("2026-12-08", "8 Des")]


def test_bars_stack_in_proportion_on_a_round_scale_and_the_table_holds_the_numbers() -> None:
    chart = stacked_chart(
        id="a", title="Akses", description="d", categories=DAYS,
        values={"2026-12-07": {"app-a": 3, "app-b": 1}, "2026-12-08": {"app-a": 7}},
        names={"app-a": "Dinas Sosial", "app-b": "JAKI"}, other="Lainnya",
    )  # fmt: skip
    assert [value for _y, value in chart.ticks] == [0, 5, 10]  # 7 rounds up to 10
    assert chart.columns == ("Dinas Sosial", "JAKI")  # the larger series first
    assert chart.rows == (("7 Des", (3, 1), 4), ("8 Des", (7, 0), 7))
    heights = {bar.title: bar.height for bar in chart.bars}
    assert set(heights) == {"7 Des: Dinas Sosial 3", "7 Des: JAKI 1", "8 Des: Dinas Sosial 7"}
    assert heights["8 Des: Dinas Sosial 7"] == round(7 * heights["7 Des: JAKI 1"], 2)
    first_day = [bar for bar in chart.bars if bar.title.startswith("7 Des")]
    assert first_day[0].y == round(first_day[1].y + first_day[1].height, 2)  # stacked
    assert chart.legend == ((PALETTE[0], "Dinas Sosial"), (PALETTE[1], "JAKI"))


def test_more_series_than_colours_sum_the_smallest_as_others() -> None:
    counts = {f"app-{n}": 10 + n for n in range(len(PALETTE) + 2)}
    chart = stacked_chart(id="b", title="t", description="d", categories=DAYS[:1],
                          values={DAYS[0][0]: counts}, names={}, other="Lainnya")  # fmt: skip
    assert len(chart.columns) == MAX_SERIES + 1 and chart.columns[-1] == "Lainnya"
    [(_label, cells, total)] = chart.rows
    assert total == sum(counts.values()) and cells[-1] == 10 + 11 + 12  # the three smallest


def test_an_empty_window_draws_no_bar_but_every_day() -> None:
    chart = stacked_chart(id="c", title="t", description="d", categories=DAYS, values={},
                          names={}, other="Lainnya")  # fmt: skip
    assert chart.bars == () and [row[0] for row in chart.rows] == ["7 Des", "8 Des"]
    assert [value for _y, value in chart.ticks] == [0, 1]


def test_the_log_is_sorted_into_accesses_refusals_and_withdrawals() -> None:
    day, other = date(2026, 12, 8), date(2026, 12, 1)
    activity = log_activity(
        [date(2026, 12, 7), day],
        [
            DailyCount(day, "relying_app", "app-a", "read", "success", 5),
            DailyCount(day, "relying_app", "app-a", "disclose", "success", 2),
            DailyCount(day, "relying_app", "app-a", "read", "denied", 3),
            DailyCount(day, "relying_app", "app-a", "read", "error", 9),  # Jati's error: neither
            DailyCount(day, "citizen", "self", "consent_withdrawn", "success", 4),
            DailyCount(day, "official", "cli/ops", "read", "success", 8),  # not an app
            DailyCount(other, "relying_app", "app-a", "read", "success", 6),  # outside
        ],
    )
    assert activity.days == (date(2026, 12, 7), day)
    assert activity.accesses == {date(2026, 12, 7): {}, day: {"app-a": 7}}
    assert activity.refusals[day] == {"app-a": 3}
    assert activity.withdrawals[day] == {"": 4}
