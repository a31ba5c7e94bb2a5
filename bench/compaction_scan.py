"""Athena-scan estimate of the 30-day aggregate (a) over Firehose-like files, before and after compaction.

Run from the repository root after ``bench/query_bench.py --events N --work WORK``:
``python bench/compaction_scan.py WORK/data SCRATCH`` (SCRATCH is replaced). The biggest site's days of
query (a)'s first window are rewritten as Firehose delivers them (one Snappy object per minute with
events), then compacted by ``ParquetEventSink.compact`` (closed days into the day layout), and the
estimate of ``query_bench.scan_estimate`` is printed for both.
"""

import sys, shutil, uuid
from pathlib import Path
sys.path.insert(0, "bench")
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from query_bench import QUERIES, DatasetSpec, window_of, scan_estimate
from clickport.adapters.parquet_sink import ParquetEventSink

src = Path(sys.argv[1])
dst = Path(sys.argv[2]) / "data"
shutil.rmtree(dst.parent, ignore_errors=True)
spec = DatasetSpec(events=int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000)
sites = sorted(p.name.removeprefix("site_id=") for p in (src / "events").iterdir())
big = max(sites, key=lambda s: sum(f.stat().st_size for f in (src / "events" / f"site_id={s}").rglob("*.parquet")))
files = 0
q = QUERIES[0]
window = window_of(q, spec, 1)
from datetime import timedelta
lo, hi = f"dt={window.start - timedelta(days=1)}", f"dt={window.end + timedelta(days=1)}"
for part in sorted((src / "events" / f"site_id={big}").iterdir()):
    if not lo <= part.name <= hi:
        continue
    table = pq.read_table(part, partitioning=None)
    table = table.sort_by([("ts", "ascending")])
    out = dst / "events" / f"site_id={big}" / part.name
    out.mkdir(parents=True)
    ts = table.column("ts").cast(pa.int64()).to_numpy()
    keys = ts // 60_000  # one Firehose object per buffer minute with events
    bounds = np.flatnonzero(np.diff(keys)) + 1
    starts = [0, *bounds.tolist()]
    ends = [*bounds.tolist(), len(ts)]
    for a, b in zip(starts, ends):
        pq.write_table(table.slice(a, b - a), out / f"{uuid.uuid4().hex}.parquet", compression="snappy")
        files += 1
def est(d):
    return scan_estimate(d, big, q.body(window), window)
before = est(dst)
partitions = ParquetEventSink(dst).compact()
after = est(dst)
n = sum(pq.ParquetFile(f).metadata.num_rows for f in (dst / "events").rglob("*.parquet")
        if window.start.isoformat() <= f.parent.name.removeprefix("dt=") < window.end.isoformat())
print(f"site {big}: {files} firehose-like files (one per minute with events, snappy); compacted {partitions} partitions")
print(f"(a) window {window.start}..{window.end}: before {before/2**20:.2f} MiB, after {after/2**20:.2f} MiB, events in those days {n:,}")
print(f"per 1M events in the window days: before {before/2**20/n*1e6:.2f}, after {after/2**20/n*1e6:.2f}")
print("files after:", len(list((dst / "events").rglob("*.parquet"))))
