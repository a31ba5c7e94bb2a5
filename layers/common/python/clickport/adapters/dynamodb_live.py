"""AWS live store: sessions, visitor pointers, rate-limit counters and daily salts in the DynamoDB live table.

Item layout (``docs/stores.md``): one item per session, visitor pointer and counter (no hot keys);
salts share the partition ``SALT``. Every item carries ``expires_at`` (the table's TTL attribute);
reads ignore expired items because TTL deletes late.

- A session started through its visitor (``claim_visitor_session``, the server-side path) keeps its state
  in the visitor pointer itself, so the next event of that visitor finds the whole session in one read;
  its ``SESSION`` item is a small alias naming the pointer, for callers that continue it by id.
- Sessions are in the sparse ``realtime`` index under ``rt_pk = "<site>#<session_id % shards>"``, sorted by
  ``rt_sk`` = the start of the session's current period (``tables.REALTIME_BUCKET_MS`` long, counted from
  the session's start), keys only: the index is written when a session starts and when it enters a new
  period — so never for a visit shorter than one period —, not on every event; ``active_sessions`` reads
  the candidates' exact ``last_ms`` from the table.
"""

from __future__ import annotations

import heapq
import json
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from clickport import tables
from clickport.adapters.dynamodb_base import (
    Item,
    b,
    default_client,
    get_int,
    get_s,
    is_conditional_failure,
    is_throttling,
    n,
    s,
    seconds_of_ms,
    translate_errors,
)
from clickport.errors import StoreUnavailable
from clickport.ports import LiveSession

SALT_PARTITION = "SALT"
BATCH_GET_MAX_KEYS = 100
BATCH_GET_ATTEMPTS = 5


def rate_key(key: str) -> Item:
    return {"pk": s(f"RATE#{key}"), "sk": s("RATE")}


def salt_key(day: str) -> Item:
    return {"pk": s(SALT_PARTITION), "sk": s(day)}


def session_key(site_id: str, session_id: int) -> Item:
    return {"pk": s(f"SESSION#{site_id}#{session_id}"), "sk": s("SESSION")}


def visitor_key(site_id: str, visitor_id: int) -> Item:
    return {"pk": s(f"VISITOR#{site_id}#{visitor_id}"), "sk": s("VISITOR")}


REALTIME_BUCKET_MS = tables.REALTIME_BUCKET_MS
# Sessions located in this process (session → the key that holds its state), so the event path never pays an
# extra read to find a server-side session; bounded, and only a hint: a stale entry is detected and corrected.
LOCATOR_SIZE = 4096
# A session read through its visitor pointer is handed to the ``get_session`` that follows in the same request.
HANDOFF_SECONDS = 2.0
READ_WORKERS = 4


def realtime_period(last_ms: int, started_ms: int | None) -> int:
    """The realtime index sort key: the start (epoch ms) of the period of ``REALTIME_BUCKET_MS`` that holds the
    last activity, periods counted from the session's start (from the epoch when the start is not known).

    Whatever the start, ``rt_sk <= last_ms < rt_sk + REALTIME_BUCKET_MS``, which is all ``active_sessions``
    relies on. Counting from the start means a session keeps its index entry until it is one period old: a
    visit shorter than that never moves it, where buckets on the clock moved every visit that crossed one
    of their edges."""
    return last_ms - (last_ms - (started_ms or 0)) % REALTIME_BUCKET_MS


def realtime_lower_bound(since_ms: int) -> int:
    """The least ``rt_sk`` of a session active at or after ``since_ms``: its period started less than a
    period before."""
    return since_ms - REALTIME_BUCKET_MS + 1


def realtime_partition(site_id: str, session_id: int, shards: int) -> str:
    """The realtime index partition of a session: session ids are uniform random, so ``mod`` spreads them."""
    return f"{site_id}#{session_id % shards}"


class DynamoDbLiveStore:
    """``LiveStore`` on the DynamoDB live table (``clickport.tables.LIVE_TABLE``)."""

    # NOTE: None lets DynamoDB fill 1 MB pages; tests set a small page size to exercise pagination.
    query_page_size: int | None = None
    concurrent_lookups = True  # each call is a round trip: the session lookup overlaps the rate-limit update

    def __init__(self, table_name: str, client=None, shards: int = tables.REALTIME_SHARDS) -> None:
        self._table = table_name
        self._client = client if client is not None else default_client()
        self._shards = shards
        self._located: OrderedDict[tuple[str, int], Item] = OrderedDict()
        self._handoffs: dict[tuple[str, int], tuple[float, Item, bool]] = {}

    # Rate-limit counters

    @translate_errors
    def hit_rate_limit(self, key: str, limit: int, expires_at: int) -> bool:
        """One conditional ``update_item``; a throttled update counts as over the limit."""
        if limit < 1:
            return False
        for _ in range(3):
            now = n(time.time())
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=rate_key(key),
                    UpdateExpression="SET #e = if_not_exists(#e, :exp) ADD #c :one",
                    ConditionExpression="attribute_not_exists(#c) OR (#c < :limit AND #e > :now)",
                    ExpressionAttributeNames={"#c": "count", "#e": "expires_at"},
                    ExpressionAttributeValues={":one": n(1), ":exp": n(expires_at), ":limit": n(limit), ":now": now},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return True
            except ClientError as exc:
                if is_throttling(exc):
                    return False
                if not is_conditional_failure(exc):
                    raise
                old = exc.response.get("Item")
                if not old or _decimal(old, "expires_at") > Decimal(now["N"]):
                    return False
            # The counter is over its limit but expired (TTL deletes late): restart it at 1.
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item={**rate_key(key), "count": n(1), "expires_at": n(expires_at)},
                    ConditionExpression="#e <= :now",
                    ExpressionAttributeNames={"#e": "expires_at"},
                    ExpressionAttributeValues={":now": now},
                )
                return True
            except ClientError as exc:
                if is_throttling(exc):
                    return False
                if not is_conditional_failure(exc):
                    raise
        return False

    @translate_errors
    def rate_count(self, key: str) -> int:
        item = self._get(rate_key(key))
        if item is None or _decimal(item, "expires_at") <= Decimal(str(time.time())):
            return 0
        return get_int(item, "count", 0)

    # Daily salts

    @translate_errors
    def get_or_create_salt(self, day: str, candidate: bytes, expires_at: int) -> bytes:
        for _ in range(3):
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item={**salt_key(day), "salt": b(candidate), "expires_at": n(expires_at)},
                    ConditionExpression="attribute_not_exists(#pk) OR #e <= :now",
                    ExpressionAttributeNames={"#pk": "pk", "#e": "expires_at"},
                    ExpressionAttributeValues={":now": n(time.time())},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return candidate
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise
                winner = exc.response.get("Item") or self._get(salt_key(day))
                if winner is not None:
                    return bytes(winner["salt"]["B"])
        raise StoreUnavailable("the salt of the day could not be stored")

    @translate_errors
    def delete_salts_before(self, day: str) -> int:
        deleted = 0
        for item in self._query(
            KeyConditionExpression="#pk = :pk AND #sk < :day",
            ExpressionAttributeNames={"#pk": "pk", "#sk": "sk"},
            ExpressionAttributeValues={":pk": s(SALT_PARTITION), ":day": s(day)},
            ProjectionExpression="#pk, #sk",
            ConsistentRead=True,
        ):
            self._client.delete_item(TableName=self._table, Key={"pk": item["pk"], "sk": item["sk"]})
            deleted += 1
        return deleted

    # Sessions

    def _session_item(self, session: LiveSession, key: Item) -> Item:
        item: Item = {
            **key,
            "site_id": s(session.site_id),
            "session_id": n(session.session_id),
            "visitor_id": n(session.visitor_id),
            "started_ms": n(session.started_ms),
            "last_ms": n(session.last_ms),
            "entry_page": s(session.entry_page),
            "current_page": s(session.current_page),
            "page_visit_id": s(session.page_visit_id),
            "pageviews": n(session.pageviews),
            "seq": n(session.seq),
            "attributes": s(json.dumps(session.attributes, sort_keys=True)),
            "expires_at": n(session.expires_at),
            "rt_pk": s(realtime_partition(session.site_id, session.session_id, self._shards)),
            "rt_sk": n(realtime_period(session.last_ms, session.started_ms)),
        }
        if session.scroll is not None:
            item["scroll"] = n(session.scroll)
        return item

    @translate_errors
    def create_session(self, session: LiveSession) -> None:
        """A session this process claimed for its visitor goes into the visitor pointer (while the claim holds),
        with an alias under its own key; any other session is its own item."""
        ref = (session.site_id, session.session_id)
        home = self._located.get(ref)
        if home is not None and home["pk"]["S"].startswith("VISITOR#"):
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item=self._session_item(session, home),
                    ConditionExpression="#sid = :sid",
                    ExpressionAttributeNames={"#sid": "session_id"},
                    ExpressionAttributeValues={":sid": n(session.session_id)},
                )
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise
                self._forget(ref)  # the visitor moved on to another session meanwhile: a session item then
            else:
                self._client.put_item(TableName=self._table, Item=self._alias_item(session, home))
                return
        self._client.put_item(
            TableName=self._table, Item=self._session_item(session, session_key(session.site_id, session.session_id))
        )

    @staticmethod
    def _alias_item(session: LiveSession, home: Item) -> Item:
        # NOTE: the alias outlives the session's first expiry by a day, so a session continued by id keeps it.
        return {
            **session_key(session.site_id, session.session_id),
            "site_id": s(session.site_id),
            "session_id": n(session.session_id),
            "at": s(home["pk"]["S"]),
            "expires_at": n(session.expires_at + 86_400),
        }

    @translate_errors
    def get_session(self, site_id: str, session_id: int, now_ms: int, *, consistent: bool = True) -> LiveSession | None:
        """One read (two through an alias; none when the visitor pointer read just before handed the session
        over). ``consistent=False`` reads eventually consistent, at half a read unit."""
        ref = (site_id, session_id)
        item = self._take_handoff(ref, consistent)
        if item is None:
            item = self._get(session_key(site_id, session_id), consistent)
            if item is not None and "at" in item:
                home = {"pk": item["at"], "sk": s("VISITOR")}
                item = self._get(home, consistent)
                if item is not None and get_int(item, "session_id") == session_id:
                    self._remember(ref, home)
        if item is None or not _is_session(item, site_id, session_id) or not _alive(item, now_ms):
            return None
        return _session(item)

    @translate_errors
    def record_event(
        self,
        site_id: str,
        session_id: int,
        *,
        ts_ms: int,
        page: str | None,
        page_visit_id: str | None,
        pageview: bool,
        scroll: int | None,
        expires_at: int,
        started_ms: int | None = None,
    ) -> LiveSession:
        """One ``update_item`` (a second, conditional one only when ``scroll`` is a new maximum).
        Raises ``KeyError`` when the session is absent or expired at ``ts_ms``. ``started_ms`` (the
        session's start, as the caller read it) aligns the realtime period; without it periods count from
        the epoch, which is as exact but moves the index entry more often."""
        names = {"#sid": "session_id", "#started": "started_ms", "#seq": "seq", "#pvs": "pageviews",
                 "#last": "last_ms", "#rtpk": "rt_pk", "#rtsk": "rt_sk", "#e": "expires_at"}
        values: Item = {":sid": n(session_id), ":one": n(1), ":pv": n(1 if pageview else 0), ":ts": n(ts_ms),
                        ":exp": n(expires_at), ":ts_s": seconds_of_ms(ts_ms),
                        ":rtpk": s(realtime_partition(site_id, session_id, self._shards)),
                        ":period": n(realtime_period(ts_ms, started_ms))}
        # rt_pk and rt_sk are written with every event, but they only change (and the index is only written)
        # when the session enters a new period.
        sets = ["#last = :ts", "#rtpk = :rtpk", "#rtsk = :period", "#e = :exp"]
        for attribute, value in (("current_page", page), ("page_visit_id", page_visit_id)):
            if value is not None:
                names[f"#{attribute}"] = attribute
                values[f":{attribute}"] = s(value)
                sets.append(f"#{attribute} = :{attribute}")
        ref = (site_id, session_id)
        own = session_key(site_id, session_id)
        key = self._located.get(ref, own)
        for _ in range(3):
            try:
                response = self._client.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression=f"SET {', '.join(sets)} ADD #seq :one, #pvs :pv",
                    ConditionExpression="#sid = :sid AND attribute_exists(#started) AND #e > :ts_s",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                break
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise
                old = exc.response.get("Item") or {}
                if key is own and "at" in old:  # an alias: the state is in the visitor pointer it names
                    key = {"pk": old["at"], "sk": s("VISITOR")}
                elif key is not own:  # a stale hint: the pointer holds another session now
                    self._forget(ref)
                    key = own
                else:
                    raise KeyError(f"no live session {session_id} in site {site_id}") from exc
        else:
            raise KeyError(f"no live session {session_id} in site {site_id}")
        if key is not own:
            self._remember(ref, key)
        session = _session(response["Attributes"])
        if scroll is not None and (session.scroll is None or session.scroll < scroll):
            self._raise_scroll(key, session_id, scroll)
            # NOTE: when a concurrent event raised it further, the stored maximum is higher still.
            session.scroll = scroll
        return session

    def _raise_scroll(self, key: Item, session_id: int, scroll: int) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET #scroll = :scroll",
                ConditionExpression="#sid = :sid AND (attribute_not_exists(#scroll) OR #scroll < :scroll)",
                ExpressionAttributeNames={"#sid": "session_id", "#scroll": "scroll"},
                ExpressionAttributeValues={":sid": n(session_id), ":scroll": n(scroll)},
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise

    # Visitor → session pointers

    @translate_errors
    def claim_visitor_session(
        self, site_id: str, visitor_id: int, session_id: int, now_ms: int, idle_ms: int, expires_at: int
    ) -> int:
        """A conditional put of the pointer. The winner's pointer comes back with a lost claim (its state is
        handed to the ``get_session`` that follows); a replaced pointer that still held a live session moves
        that session's state to its own key, so it can still be continued by id."""
        home = visitor_key(site_id, visitor_id)
        for _ in range(3):
            try:
                response = self._client.put_item(
                    TableName=self._table,
                    Item=self._visitor_item(site_id, visitor_id, session_id, now_ms, expires_at),
                    ConditionExpression="attribute_not_exists(#pk) OR #last < :cutoff OR #e <= :now_s",
                    ExpressionAttributeNames={"#pk": "pk", "#last": "last_ms", "#e": "expires_at"},
                    ExpressionAttributeValues={":cutoff": n(now_ms - idle_ms), ":now_s": seconds_of_ms(now_ms)},
                    ReturnValues="ALL_OLD",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise
                winner = exc.response.get("Item") or self._get(home)
                if winner is not None:
                    winner_id = get_int(winner, "session_id")
                    # The winner's session lives (or is about to) in this pointer: should this process have to
                    # create it (the winner's state not there yet), it goes there too, not to a second item.
                    self._remember((site_id, winner_id), home)
                    if "started_ms" in winner:
                        # The item a failed conditional write returns is the current one.
                        self._handoff((site_id, winner_id), winner, consistent=True)
                    return winner_id
                continue
            self._remember((site_id, session_id), home)
            old = response.get("Attributes")
            if old and "started_ms" in old and get_int(old, "session_id") != session_id and _alive(old, now_ms):
                self._move_out(old)
            return session_id
        raise StoreUnavailable("the visitor's session could not be claimed")

    def _move_out(self, old: Item) -> None:
        """The state of a session whose visitor pointer was just reclaimed, under the session's own key
        (replacing its alias); still in the realtime index, should it be active."""
        site_id, session_id = get_s(old, "site_id"), get_int(old, "session_id")
        item = {**old, **session_key(site_id, session_id)}
        self._client.put_item(TableName=self._table, Item=item)
        self._forget((site_id, session_id))

    @translate_errors
    def visitor_session(
        self, site_id: str, visitor_id: int, now_ms: int, idle_ms: int, *, consistent: bool = True
    ) -> int | None:
        """One read: a pointer that holds its session's state hands it to the ``get_session`` that follows
        (to a consistent one only when this read was consistent too)."""
        home = visitor_key(site_id, visitor_id)
        item = self._get(home, consistent)
        if item is None or not _alive(item, now_ms) or get_int(item, "last_ms") < now_ms - idle_ms:
            return None
        session_id = get_int(item, "session_id")
        if "started_ms" in item:
            self._remember((site_id, session_id), home)
            self._handoff((site_id, session_id), item, consistent)
        return session_id

    @staticmethod
    def _visitor_item(site_id: str, visitor_id: int, session_id: int, now_ms: int, expires_at: int) -> Item:
        return {
            **visitor_key(site_id, visitor_id),
            "site_id": s(site_id),
            "visitor_id": n(visitor_id),
            "session_id": n(session_id),
            "last_ms": n(now_ms),
            "expires_at": n(expires_at),
        }

    # In-process hints (never needed for correctness: every one is checked against the item it leads to)

    def _remember(self, ref: tuple[str, int], home: Item) -> None:
        self._located[ref] = home
        self._located.move_to_end(ref)
        while len(self._located) > LOCATOR_SIZE:
            self._located.popitem(last=False)

    def _forget(self, ref: tuple[str, int]) -> None:
        self._located.pop(ref, None)

    def _handoff(self, ref: tuple[str, int], item: Item, consistent: bool) -> None:
        self._handoffs = {ref: (time.monotonic() + HANDOFF_SECONDS, item, consistent)}

    def _take_handoff(self, ref: tuple[str, int], consistent: bool) -> Item | None:
        """The item handed over for ``ref``, unless it came from an eventually consistent read and the caller
        asks for a consistent one."""
        deadline, item, was_consistent = self._handoffs.pop(ref, (0.0, None, True))
        return item if deadline > time.monotonic() and (was_consistent or not consistent) else None

    # Realtime

    @translate_errors
    def active_sessions(self, site_id: str, since_ms: int, now_ms: int, limit: int) -> tuple[int, list[LiveSession]]:
        """One paginated index query per shard for the sessions whose current period started less than a
        period before ``since_ms`` (candidates), a batch read of their exact ``last_ms`` (counted and
        ranked), then one batch read of the ``limit`` newest in full."""
        index = tables.REALTIME_INDEX
        keys: list[Item] = []
        for shard in range(self._shards):
            for item in self._query(
                IndexName=index.name,
                KeyConditionExpression="#rt_pk = :rt_pk AND #rt_sk >= :lowest",
                ExpressionAttributeNames={"#rt_pk": index.partition_key.name, "#rt_sk": index.sort_key.name},
                ExpressionAttributeValues={":rt_pk": s(f"{site_id}#{shard}"),
                                           ":lowest": n(realtime_lower_bound(since_ms))},
            ):
                keys.append({"pk": item["pk"], "sk": item["sk"]})
        count = 0
        newest: list[tuple[int, int, dict[str, Any]]] = []  # min-heap of (last_ms, session_id, key)
        limit = max(limit, 0)
        for item in self._batch_get(keys, projection=("pk", "sk", "site_id", "session_id", "last_ms",
                                                      "expires_at")):
            if get_s(item, "site_id") != site_id or not _alive(item, now_ms) or get_int(item, "last_ms") < since_ms:
                continue
            count += 1
            entry = (get_int(item, "last_ms"), get_int(item, "session_id"), {"pk": item["pk"], "sk": item["sk"]})
            if len(newest) < limit:
                heapq.heappush(newest, entry)
            elif limit and entry[:2] > newest[0][:2]:
                heapq.heapreplace(newest, entry)
        sessions = [_session(item) for item in self._batch_get([key for _, _, key in newest])
                    if _alive(item, now_ms)]
        sessions.sort(key=lambda session: (session.last_ms, session.session_id), reverse=True)
        return count, sessions

    # Plumbing

    def _get(self, key: Item, consistent: bool = True) -> Item | None:
        return self._client.get_item(TableName=self._table, Key=key, ConsistentRead=consistent).get("Item")

    def _query(self, **kwargs: Any):
        if self.query_page_size:
            kwargs["Limit"] = self.query_page_size
        while True:
            page = self._client.query(TableName=self._table, **kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _batch_get(self, keys: list[Item], projection: tuple[str, ...] = ()) -> list[Item]:
        """Eventually consistent batch reads of ``keys``; chunks of 100 run on a few threads."""
        chunks = [keys[start : start + BATCH_GET_MAX_KEYS] for start in range(0, len(keys), BATCH_GET_MAX_KEYS)]
        if len(chunks) <= 1:
            return [item for chunk in chunks for item in self._batch_get_chunk(chunk, projection)]
        with ThreadPoolExecutor(max_workers=min(READ_WORKERS, len(chunks))) as pool:
            return [item for items in pool.map(lambda c: self._batch_get_chunk(c, projection), chunks)
                    for item in items]

    def _batch_get_chunk(self, keys: list[Item], projection: tuple[str, ...]) -> list[Item]:
        items: list[Item] = []
        spec: dict[str, Any] = {"Keys": keys}
        if projection:
            spec["ProjectionExpression"] = ", ".join(f"#a{i}" for i in range(len(projection)))
            spec["ExpressionAttributeNames"] = {f"#a{i}": name for i, name in enumerate(projection)}
        request = {self._table: spec}
        for attempt in range(BATCH_GET_ATTEMPTS):
            response = self._client.batch_get_item(RequestItems=request)
            items.extend(response.get("Responses", {}).get(self._table, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return items
            time.sleep(0.05 * 2**attempt)
        raise StoreUnavailable("DynamoDB did not return every realtime session")


def _decimal(item: Item, name: str) -> Decimal:
    return Decimal(item[name]["N"])


def _is_session(item: Item, site_id: str, session_id: int) -> bool:
    """A whole session of that site (not an alias, not a bare visitor pointer, not another session)."""
    return "started_ms" in item and get_s(item, "site_id") == site_id and get_int(item, "session_id") == session_id


def _alive(item: Item, now_ms: int) -> bool:
    return _decimal(item, "expires_at") * 1000 > now_ms


def _session(item: Item) -> LiveSession:
    return LiveSession(
        site_id=get_s(item, "site_id"),
        session_id=get_int(item, "session_id"),
        visitor_id=get_int(item, "visitor_id"),
        started_ms=get_int(item, "started_ms"),
        last_ms=get_int(item, "last_ms"),
        entry_page=get_s(item, "entry_page"),
        current_page=get_s(item, "current_page"),
        page_visit_id=get_s(item, "page_visit_id"),
        pageviews=get_int(item, "pageviews"),
        seq=get_int(item, "seq"),
        scroll=get_int(item, "scroll"),
        attributes=json.loads(get_s(item, "attributes")),
        expires_at=get_int(item, "expires_at"),
    )
