from __future__ import annotations

from application.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_past_the_allowance_wait_longer_each_time_and_then_expire() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=3, window_seconds=60, max_delay=60, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("user:a", "ip:1") == 0
        throttle.failed("user:a", "ip:1")
    assert throttle.retry_after("user:a", "ip:1") == 1  # the first delay
    clock.now += 1
    throttle.failed("user:a", "ip:1")
    assert throttle.retry_after("user:a", "ip:1") == 2  # doubled
    clock.now += 2
    throttle.failed("user:a", "ip:1")
    assert throttle.retry_after("user:a", "ip:1") == 4
    clock.now += 60  # a window after the last failure, the counter is gone
    assert throttle.retry_after("user:a", "ip:1") == 0
    throttle.failed("user:b", "ip:2")
    assert len(throttle) == 2  # the expired counters went as the new ones came


def test_an_account_is_never_delayed_for_another_address() -> None:
    throttle = LoginThrottle(max_failures=2, window_seconds=60, clock=Clock())
    for _ in range(20):
        throttle.failed("user:a", "ip:attacker")
    assert throttle.retry_after("user:a", "ip:attacker") > 0
    assert throttle.retry_after("user:a", "ip:clinic") == 0


def test_an_address_trying_many_accounts_is_delayed_for_every_account() -> None:
    throttle = LoginThrottle(max_failures=2, window_seconds=60, clock=Clock(), client_factor=3)
    for n in range(6):
        throttle.failed(f"user:{n}", "ip:9")
    assert throttle.retry_after("user:new", "ip:9") > 0
    assert throttle.retry_after("user:new", "ip:10") == 0


def test_success_clears_that_account_from_that_address_only() -> None:
    throttle = LoginThrottle(max_failures=2, window_seconds=60, clock=Clock(), client_factor=2)
    throttle.failed("user:a", "ip:1")
    throttle.failed("user:a", "ip:1")
    throttle.succeeded("user:a", "ip:1")
    assert throttle.retry_after("user:a", "ip:1") == 0
    throttle.failed("user:b", "ip:1")
    throttle.failed("user:b", "ip:1")
    throttle.succeeded("user:a", "ip:1")  # a good account does not reset the address
    assert throttle.retry_after("user:c", "ip:1") > 0


def test_the_number_of_counters_is_bounded_and_the_busiest_address_is_kept() -> None:
    throttle = LoginThrottle(max_failures=2, window_seconds=60, clock=Clock(), capacity=50)
    for n in range(5000):
        throttle.failed(f"user:{n}", "ip:spray")
    assert len(throttle) <= 50
    assert throttle.retry_after("user:fresh", "ip:spray") > 0
