"""`make bench`: every benchmark, each printing figures measured in this one run."""

from __future__ import annotations

from bench import heads, http, reads, refusal_timing, sharing, store

if __name__ == "__main__":
    store.main()
    http.main()
    sharing.main()
    reads.main()
    refusal_timing.main()
    heads.main()
