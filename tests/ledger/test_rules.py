"""The 90-day reassignment rule and its exceptions (licensing-rules.md §1.7 for CALs, §7.1 for
server licenses), as pure functions. Every expected day is counted by hand in the comments."""

from __future__ import annotations

from datetime import date

import pytest

from entitle.ledger.rules import Holding, holder_problem, judge, next_allowed, pick

HOST = ("host", "hv01")
ANN, BOB = ("user", "ann"), ("user", "bob")
LAPTOP, LOANER = ("device", "lt-17"), ("device", "loaner-2")


def cores(clock: date | None, since: date = date(2024, 1, 1), qty: int = 16) -> Holding:
    return Holding(qty, HOST, since, clock)


def test_an_ordinary_move_waits_90_days_from_the_last_reassignment() -> None:
    # §1.7/§7.1: not less than 90 days since the last reassignment. Last moved 2025-03-01:
    # March 1 → 31 is 30 days, → April 30 is 60, → May 30 is 90. So May 29 is refused.
    held = cores(date(2025, 3, 1))
    refused = judge("core", held, ("host", "hv02"), date(2025, 5, 29), None)
    assert not refused.allowed
    assert refused.allowed_from == date(2025, 5, 30)
    assert "2025-05-30" in refused.message and "1 day later" in refused.message
    assert judge("core", held, ("host", "hv02"), date(2025, 5, 30), None).allowed


@pytest.mark.parametrize(
    ("clock", "first_day"),
    [
        # 2024 is a leap year: Jan 15→31 = 16 days, +29 (Feb) = 45, +31 (Mar) = 76, +14 = 90.
        (date(2024, 1, 15), date(2024, 4, 14)),
        # 2023 is not: 16 + 28 = 44, + 31 = 75, + 15 = 90.
        (date(2023, 1, 15), date(2023, 4, 15)),
        # Across New Year into a leap February: Dec 15→31 = 16, +31 = 47, +29 = 76, +14 = 90.
        (date(2023, 12, 15), date(2024, 3, 14)),
        # The same into a common February: 16 + 31 + 28 = 75, + 15 = 90.
        (date(2022, 12, 15), date(2023, 3, 15)),
        # From the leap day itself: Feb 29→Mar 31 = 31, +30 = 61, +29 = 90 → May 29.
        (date(2024, 2, 29), date(2024, 5, 29)),
    ],
)
def test_the_90_days_are_calendar_days_across_leap_years(clock: date, first_day: date) -> None:
    assert next_allowed(clock) == first_day
    held = cores(clock, since=clock)
    assert not judge(
        "core", held, ("host", "x"), date.fromordinal(first_day.toordinal() - 1), None
    ).allowed
    assert judge("core", held, ("host", "x"), first_day, None).allowed


def test_an_unknown_clock_does_not_wait() -> None:
    # A holding whose last assignment is unknown (clock None) is not held back; the ledger
    # always knows it (tests/ledger/test_reassignment.py), so only callers of the pure rule
    # without a date get this.
    held = Holding(1, ANN, date(2025, 1, 10), clock=None)
    assert judge("user-cal", held, BOB, date(2025, 1, 11), None).allowed


def test_permanent_hardware_failure_moves_server_licenses_at_once() -> None:
    # §7.1: the one exception for server licenses. Moved 10 days ago, the host died.
    held = cores(date(2025, 6, 1))
    verdict = judge("core", held, ("host", "hv02"), date(2025, 6, 11), "hardware-failure")
    assert verdict.allowed and verdict.permanent and not verdict.temporary
    assert "hardware failure" in verdict.message
    # ...but a user holds no hardware.
    user = Holding(1, ANN, date(2025, 6, 1), date(2025, 6, 1))
    assert not judge("user-cal", user, BOB, date(2025, 6, 2), "hardware-failure").allowed


def test_end_of_employment_frees_a_users_license_at_once() -> None:
    held = Holding(1, ANN, date(2025, 6, 1), clock=date(2025, 6, 1))
    verdict = judge("user-cal", held, BOB, date(2025, 6, 5), "end-of-employment")
    assert verdict.allowed and verdict.permanent
    device = Holding(1, LAPTOP, date(2025, 6, 1), clock=date(2025, 6, 1))
    assert not judge("device-cal", device, LOANER, date(2025, 6, 5), "end-of-employment").allowed


def test_a_temporary_reallocation_covers_an_absent_user_and_comes_back() -> None:
    # §1.7: CALs may be reallocated temporarily to cover a user's absence, within 90 days of
    # the last reassignment, and the clock does not restart; the units go back to the lender.
    held = Holding(1, ANN, date(2025, 6, 1), clock=date(2025, 6, 1))
    out = judge("user-cal", held, BOB, date(2025, 6, 20), "absence")
    assert out.allowed and out.temporary and not out.permanent
    loaned = Holding(1, BOB, date(2025, 6, 20), clock=date(2025, 6, 1), lent_by=ANN)
    onward = judge("user-cal", loaned, ("user", "cy"), date(2025, 7, 1), None)
    assert not onward.allowed and "return them first" in onward.message
    assert not judge("user-cal", loaned, ("user", "cy"), date(2025, 7, 1), "return").allowed
    back = judge("user-cal", loaned, ANN, date(2025, 7, 1), "return")
    assert back.allowed and not back.permanent


def test_a_device_out_of_service_lends_its_device_cal_to_a_loaner() -> None:
    held = Holding(1, LAPTOP, date(2025, 6, 1), clock=date(2025, 6, 1))
    assert judge("device-cal", held, LOANER, date(2025, 6, 2), "out-of-service").temporary
    user = Holding(1, ANN, date(2025, 6, 1), clock=date(2025, 6, 1))
    assert not judge("user-cal", user, BOB, date(2025, 6, 2), "out-of-service").allowed


def test_server_licenses_have_no_temporary_reallocation() -> None:
    # §1.7 names CALs, client MLs and SLs; §7.1 gives server licenses only hardware failure.
    verdict = judge("core", cores(date(2025, 6, 1)), ("host", "b"), date(2025, 6, 2), "absence")
    assert not verdict.allowed and "§7.1" in verdict.message


def test_return_only_for_units_on_loan() -> None:
    held = Holding(1, ANN, date(2025, 6, 1))
    assert not judge("user-cal", held, BOB, date(2025, 6, 2), "return").allowed


def test_a_move_takes_units_free_to_move_first_and_says_when_more_may_move() -> None:
    # hv01 holds 8 cores never moved and 8 moved on 2025-06-01 (free from 2025-08-30:
    # June 1→30 = 29, +31 (July) = 60, +30 = 90 → August 30).
    holdings = [cores(date(2025, 6, 1), qty=8), cores(None, qty=8)]
    eight = pick("core", holdings, 8, ("host", "hv02"), date(2025, 6, 10), None)
    assert eight.verdict.allowed and eight.taken == ((1, 8),)
    sixteen = pick("core", holdings, 16, ("host", "hv02"), date(2025, 6, 10), None)
    assert not sixteen.verdict.allowed
    assert sixteen.verdict.allowed_from == date(2025, 8, 30)
    assert not pick("core", holdings, 17, ("host", "hv02"), date(2025, 9, 1), None).verdict.allowed


def test_who_may_hold_what() -> None:
    assert holder_problem("user-cal", "host") is not None
    assert holder_problem("device-cal", "device") is None
    assert holder_problem("core", "user") is not None
    assert holder_problem("core", "ose") is None


def test_license_mobility_within_a_farm_needs_active_sa_and_excludes_windows_cores() -> None:
    # §7.1: server-application licenses with SA, and all External Connectors, may move within
    # a server farm as often as needed; Windows Server licensed by physical cores may not.
    sql = Holding(8, HOST, date(2025, 6, 1), clock=date(2025, 6, 1))
    day, to = date(2025, 6, 10), ("host", "hv02")
    with_sa = judge(
        "core", sql, to, day, "license-mobility", product="sql-server", sa_until=date(2026, 12, 31)
    )
    assert with_sa.allowed and with_sa.permanent
    no_sa = judge("core", sql, to, day, "license-mobility", product="sql-server")
    assert not no_sa.allowed and "Software Assurance" in no_sa.message
    # SA ended the day before the move: no longer active on 2025-06-10.
    lapsed = judge(
        "core", sql, to, day, "license-mobility", product="sql-server", sa_until=date(2025, 6, 9)
    )
    assert not lapsed.allowed and "2025-06-09" in lapsed.message
    windows = judge(
        "core",
        sql,
        to,
        day,
        "license-mobility",
        product="windows-server",
        sa_until=date(2026, 12, 31),
        server_os="windows-server",  # the catalog's roles.server_os
    )
    assert not windows.allowed and "server OS (windows-server)" in windows.message
    # which product is the server OS is the catalog's fact, not the ledger's
    other_os = judge(
        "core",
        sql,
        to,
        day,
        "license-mobility",
        product="windows-server",
        sa_until=date(2026, 12, 31),
        server_os="another-os",
    )
    assert other_os.allowed
    connector = Holding(1, HOST, date(2025, 6, 1), clock=date(2025, 6, 1))
    assert judge(
        "external-connector", connector, to, day, "license-mobility", product="windows-server"
    ).allowed
    cal = Holding(1, ANN, date(2025, 6, 1), clock=date(2025, 6, 1))
    assert not judge("user-cal", cal, BOB, day, "license-mobility").allowed
