from __future__ import annotations

from application.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_account_is_refused_after_its_failures_until_the_window_passes() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=3, window_seconds=60, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("user:a", "ip:1") == 0
        throttle.failed("user:a", "ip:1")
    assert throttle.retry_after("user:a", "ip:1") == 60
    assert throttle.retry_after("user:b", "ip:1") == 0  # the address allows 30
    clock.now += 61
    assert throttle.retry_after("user:a", "ip:1") == 0


def test_an_address_spraying_many_accounts_is_refused() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=2, window_seconds=60, clock=clock, client_factor=3)
    for n in range(6):
        throttle.failed(f"user:{n}", "ip:9")
    assert throttle.retry_after("user:new", "ip:9") > 0
    assert throttle.retry_after("user:new", "ip:10") == 0


def test_success_clears_the_accounts_failures() -> None:
    throttle = LoginThrottle(max_failures=2, window_seconds=60, clock=Clock())
    throttle.failed("user:a", "ip:1")
    throttle.failed("user:a", "ip:1")
    throttle.succeeded("user:a")
    assert throttle.retry_after("user:a", "ip:2") == 0
