"""Capacity units of the DynamoDB calls a client sends, worked out from the items before and after each write.

A meter hooks one botocore client (``meter.attach(client)``) and reads item images through a second,
unhooked client of the same endpoint (moto in tests and the ingestion bench). It applies DynamoDB's
documented capacity rules:

- item size: attribute name bytes + value bytes; a number is 1 byte per two significant digits + 1
  ("Item sizes and formats", Developer Guide);
- "For PutItem, UpdateItem and DeleteItem ... DynamoDB considers the size of the item as it appears before
  and after the update ... the larger of these two item sizes", one write unit per 1 KB, at least one;
  a failed conditional write still consumes write capacity for the item it checked;
- global secondary index ("GSI.Writes"): putting a new entry costs one write, "If an update to the table
  changes the value of an indexed key attribute (from A to B), two writes are required", removing an entry
  one write, changing only projected attributes one write, and "If an item is not present in the index
  before or after the item is updated, there is no additional write cost"; an entry is its table keys,
  index keys and projected attributes;
- reads: one read unit per 4 KB for a strongly consistent read, half for an eventually consistent one,
  rounded up per item (GetItem, BatchGetItem) or over the whole page (Query: sizes of the items read).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from clickport.tables import TableSchema

WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem")


def value_size(value: dict[str, Any]) -> int:
    (kind, data), = value.items()
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "N":
        digits = str(data).lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(item.encode("utf-8")) for item in data)
    if kind == "NS":
        return sum(value_size({"N": item}) for item in data)
    if kind == "BS":
        return sum(len(item) for item in data)
    if kind == "L":
        return 3 + sum(1 + value_size(item) for item in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + value_size(item) for name, item in data.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, dict[str, Any]] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@dataclass
class Meter:
    """Calls, write units (table and each index) and read units of one client's DynamoDB traffic."""

    schema: TableSchema
    peek: Any  # an unhooked client of the same endpoint: reads images without being counted
    calls: Counter = field(default_factory=Counter)
    table_write_units: float = 0.0
    index_write_units: Counter = field(default_factory=Counter)
    read_units: float = 0.0
    log: list[dict[str, Any]] = field(default_factory=list)
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, client: Any) -> "Meter":
        client.meta.events.register("before-parameter-build.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)
        return self

    @property
    def write_units(self) -> float:
        return self.table_write_units + sum(self.index_write_units.values())

    def snapshot(self) -> tuple[int, float, float]:
        """(calls, write units, read units) so far: subtract two snapshots for the cost of what ran between."""
        return sum(self.calls.values()), self.write_units, self.read_units

    # hooks

    def _before(self, params: dict, model: Any, **_: Any) -> None:
        before = None
        if model.name in WRITE_OPERATIONS:
            before = self._image(params["TableName"], self._key(params))
        self._local.__dict__.setdefault("pending", []).append((model.name, dict(params), before))

    def _after(self, parsed: dict, model: Any, **_: Any) -> None:
        name, params, before = self._local.pending.pop()
        entry: dict[str, Any] = {"operation": name, "table_units": 0.0, "index_units": {}, "read_units": 0.0,
                                 "thread": threading.current_thread().name}
        failed = "Error" in parsed and parsed["Error"].get("Code")
        if name in WRITE_OPERATIONS:
            if failed:
                entry["table_units"] = write_units(item_size(before)) if failed == "ConditionalCheckFailedException" \
                    else 0
            else:
                after = self._image(params["TableName"], self._key(params))
                entry["table_units"] = write_units(max(item_size(before), item_size(after)))
                entry["index_units"] = self._index_units(before, after)
        elif not failed:
            entry["read_units"] = self._read_units(name, params, parsed)
        with self._lock:
            self.calls[name] += 1
            self.table_write_units += entry["table_units"]
            for index, units in entry["index_units"].items():
                self.index_write_units[index] += units
            self.read_units += entry["read_units"]
            self.log.append(entry)

    # rules

    def _key(self, params: dict) -> dict:
        if "Key" in params:
            return params["Key"]
        names = [self.schema.partition_key.name] + ([self.schema.sort_key.name] if self.schema.sort_key else [])
        return {name: params["Item"][name] for name in names}

    def _image(self, table: str, key: dict) -> dict | None:
        return self.peek.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _entry(self, index, item: dict | None) -> dict | None:
        if not item:
            return None
        names = [index.partition_key.name] + ([index.sort_key.name] if index.sort_key else [])
        if any(name not in item for name in names):
            return None  # sparse: not in the index
        names += [self.schema.partition_key.name] + ([self.schema.sort_key.name] if self.schema.sort_key else [])
        if index.projection == "ALL":
            names = list(item)
        elif index.projection == "INCLUDE":
            names += list(index.non_key_attributes)
        return {name: item[name] for name in names if name in item}

    def _index_units(self, before: dict | None, after: dict | None) -> dict[str, int]:
        units = {}
        for index in self.schema.indexes:
            old, new = self._entry(index, before), self._entry(index, after)
            keys = [index.partition_key.name] + ([index.sort_key.name] if index.sort_key else [])
            if old is None and new is None or old == new:
                cost = 0
            elif old is None:
                cost = write_units(item_size(new))
            elif new is None:
                cost = write_units(item_size(old))
            elif any(old[k] != new[k] for k in keys):
                cost = write_units(item_size(old)) + write_units(item_size(new))
            else:
                cost = write_units(item_size(new))
            if cost:
                units[index.name] = cost
        return units

    def _read_units(self, name: str, params: dict, parsed: dict) -> float:
        def units(size: int, consistent: bool) -> float:
            return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)

        if name == "GetItem":
            item = self._image(params["TableName"], params["Key"]) if "Item" in parsed else None
            return units(item_size(item), bool(params.get("ConsistentRead")))
        if name == "BatchGetItem":
            total = 0.0
            for table, request in params["RequestItems"].items():
                for found in parsed.get("Responses", {}).get(table, []):
                    key = {k: found[k] for k in self._key({"Item": found})}
                    total += units(item_size(self._image(table, key)), bool(request.get("ConsistentRead")))
            return total
        if name == "Query":
            size = sum(item_size(item) for item in parsed.get("Items", []))
            return units(size, bool(params.get("ConsistentRead")))
        return 0.0
