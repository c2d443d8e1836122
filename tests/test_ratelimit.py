"""The rate-limit storage in the application's database (campaign/ratelimit.py)."""

import threading

from sqlalchemy import func, select

from campaign.core.extensions import db
from campaign.core.ratelimit import DatabaseStorage, RateLimitCounter
from tests.timeutil import at, shanghai


def at_seconds(*args) -> float:
    return shanghai(*args).timestamp()


def rows() -> int:
    return db.session.scalar(select(func.count()).select_from(RateLimitCounter))


def test_a_window_counts_up_and_starts_again_when_it_ends(app):
    storage = DatabaseStorage()
    with at(2026, 11, 10, 9, 0):
        assert [storage.incr("k", 600) for _ in range(3)] == [1, 2, 3]
        assert storage.get("k") == 3 and storage.get("other") == 0
        assert storage.get_expiry("k") == at_seconds(2026, 11, 10, 9, 10)
    with at(2026, 11, 10, 9, 9, 59):
        assert storage.incr("k", 600) == 4
        assert storage.get_expiry("k") == at_seconds(2026, 11, 10, 9, 10)  # not extended
    with at(2026, 11, 10, 9, 10):
        assert storage.get("k") == 0
        assert storage.incr("k", 600, amount=2) == 2
        assert storage.get_expiry("k") == at_seconds(2026, 11, 10, 9, 20)
    storage.clear("k")
    assert storage.get("k") == 0
    assert storage.check()


def test_ended_windows_are_removed_by_later_increments(app):
    storage = DatabaseStorage()
    with at(2026, 11, 10, 9, 0):
        for n in range(5):
            storage.incr(f"old{n}", 600)
    assert rows() == 5
    with at(2026, 11, 10, 9, 30):
        storage.incr("new", 600)
    db.session.remove()
    assert rows() == 1
    assert storage.reset() == 1 and rows() == 0


def test_concurrent_increments_are_all_counted(app):
    """Twelve threads (as many workers) hitting one key at once: no hit is lost."""
    storage = DatabaseStorage()
    start = threading.Barrier(12)
    counts, errors = [], []

    def hit():
        with app.app_context():
            start.wait()
            try:
                for _ in range(5):
                    counts.append(storage.incr("shared", 600))
            except Exception as e:  # reported below: a thread's exception is otherwise lost
                errors.append(e)

    threads = [threading.Thread(target=hit) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(counts) == list(range(1, 61))
    assert storage.get("shared") == 60
