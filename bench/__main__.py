"""`make bench`: every benchmark, each printing figures measured in this one run.
`python -m bench quick` (`make bench-quick`): the board's figures with a tenth of the history."""

from __future__ import annotations

import sys

from bench import board, heads, http, reads, refusal_timing, sharing, store

if __name__ == "__main__":
    if sys.argv[1:] == ["quick"]:
        board.main(small=20, large=400, events=10, repeats=5)
        sys.exit(0)
    board.main()
    store.main()
    http.main()
    sharing.main()
    reads.main()
    refusal_timing.main()
    heads.main()
