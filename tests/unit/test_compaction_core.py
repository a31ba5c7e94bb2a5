"""The compaction core (tables in, tables out): every row once, in (ts, seq) order, sized outputs."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pytest

from clickport.adapters import compaction
from clickport.schema import COLUMN_NAMES, arrow_schema


def _table(pairs):
    rows = [{**{n: None for n in COLUMN_NAMES}, "ts": ts, "seq": seq, "type": "pageview", "path": f"/{ts % 3}"}
            for ts, seq in pairs]
    return pa.Table.from_pylist(rows, schema=arrow_schema())


def _rows(tables):
    return Counter(tuple(sorted(r.items())) for t in tables for r in t.to_pylist())


def test_compact_day_keeps_every_row_once_in_order_and_splits_by_rows():
    inputs = [_table([(5, 1), (1, 2), (1, 1)]), _table([(3, 1), (1, 1)]), _table([]), _table([(9, 9), (0, 4)])]
    outputs = compaction.compact_day(inputs, file_rows=3)
    assert [t.num_rows for t in outputs] == [3, 3, 1]
    assert _rows(outputs) == _rows(inputs)  # the duplicate (1, 1) twice
    order = [(r["ts"], r["seq"]) for t in outputs for r in t.select(["ts", "seq"]).to_pylist()]
    assert order == sorted(order) and len(order) == 7


def test_compact_day_of_nothing_is_one_empty_table_and_inputs_are_cast_to_the_schema():
    assert [t.num_rows for t in compaction.compact_day([])] == [0]
    narrow = _table([(2, 1)]).select(list(reversed(COLUMN_NAMES)))  # other column order
    (out,) = compaction.compact_day([narrow])
    assert out.schema == arrow_schema()
    with pytest.raises(ValueError):
        compaction.compact_day([narrow], file_rows=0)


def test_merge_small_and_day_rules():
    merged = compaction.merge_small([_table([(2, 1)]), _table([(1, 1)])])
    assert merged.column("ts").to_pylist()[0].timestamp() == 0.001
    assert compaction.is_closed("2026-03-13", "2026-03-14") and not compaction.is_closed("2026-03-14", "2026-03-14")
    assert compaction.needs_day_layout(["day-a.parquet", "b.parquet"])
    assert not compaction.needs_day_layout(["day-a.parquet"]) and not compaction.needs_day_layout([])
