"""What linking and signing the chain after every group commit costs the write path.

`python -m bench.heads` writes the same events through the group-commit door three ways:
the chain linked by a timer only (the behaviour before signed heads), linked after every
commit without a head log, and linked, signed and published after every commit. It prints
the write rate of each and the time one link-sign-publish step takes for a commit's tail.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.store import records
from bootstrap import bootstrap_services
from bootstrap.settings import Settings

ROUNDS, CONCURRENT = 40, 50


def _settings(tmp: Path, signed: bool) -> Settings:
    extra = {"signing_key_file": tmp / "key.json", "head_log": tmp / "heads.jsonl"}
    return Settings.model_validate(
        {"data_dir": tmp / "data", "chain_seconds": 2.0, **(extra if signed else {})}
    )


def write_rate(mode: str) -> float:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        services = bootstrap_services(_settings(tmp, mode == "signed"), with_tokens=False)
        if mode == "timer":
            services.writer.on_commit = services.reader.index.wake  # no wake for the chain
        services.keeper.start()

        async def run() -> float:
            started = time.perf_counter()
            for _ in range(ROUNDS):
                batch = records(CONCURRENT)
                await asyncio.gather(*(services.writer.append(r) for r in batch))
            return ROUNDS * CONCURRENT / (time.perf_counter() - started)

        try:
            return asyncio.run(run())
        finally:
            services.close()


def link_step_ms(samples: int = 200) -> tuple[float, float]:
    """Median and 95th percentile of one link-sign-publish step for a 10-event tail."""
    with tempfile.TemporaryDirectory() as folder:
        services = bootstrap_services(_settings(Path(folder), True), with_tokens=False)
        took = []
        try:
            for _ in range(samples):
                for record in records(10):
                    services.writer.create(record)
                started = time.perf_counter()
                services.anchor.link()
                took.append((time.perf_counter() - started) * 1000)
        finally:
            services.close()
    took.sort()
    return statistics.median(took), took[int(len(took) * 0.95)]


def main() -> None:
    for mode in ("timer", "unsigned", "signed"):
        print(f"{mode:>9}: {write_rate(mode):7.0f} events/s ({CONCURRENT} concurrent writes)")
    median, p95 = link_step_ms()
    print(f"link + sign + publish one commit's tail: median {median:.2f} ms, p95 {p95:.2f} ms")


if __name__ == "__main__":
    main()
