"""`make bench`: every benchmark, each printing figures measured in this one run.
`python -m bench quick` (`make bench-quick`): the board's figures with a tenth of the history, the
record index's catch-up and rebuild at 10,000 events, the cost curve and the pages at a tenth
of their size."""

from __future__ import annotations

import sys

from bench import (
    board,
    curve,
    heads,
    http,
    pages,
    projections,
    reads,
    refusal_timing,
    sharing,
    store,
)

if __name__ == "__main__":
    if sys.argv[1:] == ["quick"]:
        board.main(small=20, large=400, events=10, repeats=5)
        projections.main(patients=100, per_patient=100)
        curve.quick()
        pages.quick()
        sys.exit(0)
    board.main()
    projections.main(patients=1000, per_patient=100)
    projections.main(patients=10000, per_patient=100)
    curve.main()
    pages.main()
    store.main()
    http.main()
    sharing.main()
    reads.main()
    refusal_timing.main()
    heads.main()
