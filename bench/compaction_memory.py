"""Peak memory and time of the AWS compaction job for one site's day, as the Lambda function runs it.

``python bench/compaction_memory.py EVENTS [FILES]``: one UTC day of EVENTS events of the query benchmark's
biggest site (bench/query_dataset.py), cut into FILES Firehose-like Snappy objects (default 1,440: one per
minute), compacted by ``S3DayCompactor.compact_day`` against moto S3 in this process. Prints the rows, the
objects' bytes, the compacted bytes, the wall time of the compaction and the process's peak RSS (the
dataset is generated in a child process first, so the peak is the job's). It sizes infra/compaction.py.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def generate(events: int, files: int, out: Path) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from query_dataset import SITE_SHARES, DatasetSpec, site_events

    spec = DatasetSpec(events=int(events / SITE_SHARES[0]) + 1, days=1)
    table = site_events(spec, 0)
    order = np.random.default_rng(1).permutation(table.num_rows)  # Firehose: arrival order within a file
    table = table.take(pa.array(order)).sort_by([("ts", "ascending")])
    bounds = np.linspace(0, table.num_rows, files + 1).astype(int)
    for index, (start, end) in enumerate(zip(bounds[:-1], bounds[1:])):
        part = table.slice(start, end - start)
        part = part.take(pa.array(np.random.default_rng(index).permutation(part.num_rows)))
        pq.write_table(part, out / f"part-{index:05d}.parquet", compression="snappy")


def main() -> None:
    events = int(sys.argv[1])
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 1440
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        subprocess.run([sys.executable, __file__, "--generate", str(events), str(files), folder], check=True)
        import boto3
        from moto import mock_aws

        from clickport.adapters.s3_compaction import S3DayCompactor

        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket="bench-events")
            raw_bytes = 0
            for path in sorted(out.glob("*.parquet")):
                body = path.read_bytes()
                raw_bytes += len(body)
                s3.put_object(Bucket="bench-events", Key=f"events/site_id=s/dt=2026-01-01/{path.name}", Body=body)
                path.unlink()
            job = S3DayCompactor("bench-events", s3, now=lambda: datetime(2026, 1, 3, tzinfo=timezone.utc) + timedelta(hours=2))
            base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.perf_counter()
            result = job.compact_day("s", "2026-01-01")
            seconds = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            compacted = sum(s3.head_object(Bucket="bench-events", Key=k)["ContentLength"] for k in result.outputs)
    print(json.dumps({
        "rows": result.rows, "objects": result.inputs, "object_mib": round(raw_bytes / 2**20, 1),
        "compacted_mib": round(compacted / 2**20, 1), "outputs": len(result.outputs), "seconds": round(seconds, 1),
        "peak_rss_mib": round(peak / 1024), "rss_before_mib": round(base / 1024),
    }))


if __name__ == "__main__":
    if sys.argv[1] == "--generate":
        generate(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
    else:
        main()
