"""Plans over session slots: closed days read from their per-session rollup, the rest from events.

Compaction writes, for every closed UTC day, one row per session and UTC 15-minute slot
(``adapters/compaction.session_slots``): the slot's first event's time (``ts``), visitor id and
session attributes, its last time (``last_ts``) and its countable events, pageviews and clicks. Every
zone offset in use is a multiple of 15 minutes, so local days, hours, weeks and months begin on slot
boundaries, and a slot lies whole inside one bucket and one side of any such range edge.

One statement reads, as ``slot_rows`` (``UNION ALL``):

- ``session_slots``: the slots of the partitions rolled up, those lying whole inside a range: with
  ``[cs, fe)`` the range shrunk to slot boundaries, a slot is inside iff its first time is in it;
- ``fresh_events``: every event in range of the other partitions (today's, or a day not yet
  compacted), each as a row of one event (``last_ts = ts``, counts of 0 or 1);
- ``rolled_events``: the events of rolled-up partitions in the pieces of a range outside ``[cs, fe)``
  (ranges ending at "now", or comparisons "up to the same elapsed time"), each as a row of one event.

On AWS (a ``SplitSource`` with a slots table: the compaction watermark is the split) the same three
sides read three tables, each for its own days: ``session_slots`` is the slots table and
``rolled_events`` the compacted events table, both for the days up to the watermark (every such day has
its slots); ``fresh_events`` is the raw events table for the days after it. A side whose days are all on
the other side of the watermark is left out.

Every event in range is in exactly one of them, and a session's rows merge exactly: sums of counts, the
first row's visitor and attributes by ``ts``, duration = max ``last_ts`` − min ``ts``. Filters on session
attributes apply to every row (the attributes are the session's, spec §3.8.2).

Used for plans whose values all merge that way (``slots_eligible``): filters and dimensions on stamped
session attributes, time dimensions, and the totals visitors, sessions, pageviews, events, clickers —
plus bounces and durations without a time dimension (they need the whole session in range). Anything
else (event-level dimensions and filters, entry/exit pages, scroll, goals, revenue) reads events
(sql.py). The engine names the three tables and decides which partitions are rolled up, under its read
lock (``adapters/duckdb_engine``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlglot import exp

from clickport.query.expressions import and_all, col, flag, fn, lit, or_all
from clickport.query.plan import CURRENT, PREVIOUS, QueryPlan
from clickport.query.sql import COUNTABLE_TYPES, BuiltQuery, QueryBuilder, SplitSource, _table
from clickport.query.sql_dimensions import kind_of
from clickport.query.sql_totals import EVENT, session_reads, zero_if_null
from clickport.query.periods import day_start, local_date
from clickport.query.time_keys import BIAS_MS, HOUR_MS, bucket_key, offsets
from clickport.query.zones import get_zone
from clickport.schema import DAY_MS

SLOTS_TABLE, ROLLED_TABLE, FRESH_TABLE = "session_slots", "rolled_events", "fresh_events"
SPANNING_TABLE = "spanning_sessions"  # session ids with slot rows in more than one day (adapters/slot_files)
FIRST_FLAGS = {"prev_session_ts": "first_of_session", "prev_visitor_ts": "first_of_visitor"}
SLOT_MS = 15 * 60 * 1000
COUNTS = ("counted", "pageviews", "clicks")
# Totals that merge exactly over slot rows; the second set also with a time dimension.
SESSION_PLAN_TOTALS = frozenset({"visitors", "sessions", "pageviews", "events", "bounce_base", "bounces", "duration_ms", "clickers"})
TIME_PLAN_TOTALS = frozenset({"visitors", "sessions", "pageviews", "events", "clickers"})
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)


def slots_eligible(plan: QueryPlan) -> bool:
    """The plan's values all merge exactly over session slots (see the module docstring)."""
    if any(not kind_of(f.dimension).stamped for f in plan.filters):
        return False
    if any(d.kind not in ("session_column", "time") for d in plan.dimensions):
        return False
    timed = any(d.is_time for d in plan.dimensions)
    if not plan.needs_totals <= (TIME_PLAN_TOTALS if timed else SESSION_PLAN_TOTALS):
        return False
    return not timed or _buckets_on_slots(plan)


def _buckets_on_slots(plan: QueryPlan) -> bool:
    """Every time bucket boundary in the ranges read falls on a slot boundary: the zone's offsets there
    are multiples of 15 minutes and change on slot boundaries (true of every zone since 1972; not of,
    say, Africa/Monrovia's −0:44:30 before it). Range edges need not: cut slots are read from events."""
    start = min(r.start for r in plan.ranges)
    end = max(r.end for r in plan.ranges)
    changes = offsets(plan.timezone, start, end)
    return all(offset % SLOT_MS == 0 for _, offset in changes) and all(
        _ms(at) % SLOT_MS == 0 for at, _ in changes[1:]
    )


FIRST_ROW_UNITS = {"hour": HOUR_MS, "date": DAY_MS}


def first_rows_eligible(plan: QueryPlan) -> bool:
    """Sessions (and, with no filter and no other dimension, visitors) per hour or date bucket can be counted
    as rows that are the first counted row of their session (visitor) in the bucket, from the slots'
    first-row columns (``compaction.first_rows``: the previous counted row's time, looking back to the start
    of the previous UTC day). Exact when the plan reads whole slots only (every range edge on a slot
    boundary), each bucket is one interval of time (its key never goes back: a zone falling back across a
    bucket boundary, as at local midnight, breaks that) and the lookback covers every bucket: the start
    of a row's bucket (or of its range) is never before the start of the UTC day before the row's."""
    if not slots_eligible(plan):
        return False
    time_dimension = plan.time_dimension
    if time_dimension is None or time_dimension.name not in FIRST_ROW_UNITS:
        return False
    if sum(d.is_time for d in plan.dimensions) != 1 or not plan.needs_totals & {"sessions", "visitors"}:
        return False
    if any(_ms(r.start) % SLOT_MS or _ms(r.end) % SLOT_MS or r.start >= r.end for r in plan.ranges):
        return False  # whole slots only, and at least one
    return all(_buckets_in_lookback(plan.timezone, time_dimension.name, r.start, r.end) for r in plan.ranges)


def first_visitor_rows(plan: QueryPlan) -> bool:
    """Visitors per bucket from first rows too: no filter (it could keep some of a visitor's sessions and
    not others) and no dimension but time (a visitor's sessions may fall in several groups)."""
    return not plan.filters and len(plan.dimensions) == 1


def _buckets_in_lookback(zone_name: str, unit: str, start: datetime, end: datetime) -> bool:
    unit_ms = FIRST_ROW_UNITS[unit]
    changes = offsets(zone_name, start, end)
    for (_, before), (at, after) in zip(changes, changes[1:]):
        moment = _ms(at)
        if (moment + after + BIAS_MS) // unit_ms < (moment - 1 + before + BIAS_MS) // unit_ms:
            return False  # the key goes back: a bucket of two intervals
    if unit == "hour":
        return True  # one interval of at most two hours
    zone = get_zone(zone_name)
    first, last = _ms(start), _ms(end)
    day = local_date(start, zone)
    while True:
        bucket_start = max(_ms(day_start(day, zone)), first)
        day += timedelta(days=1)
        bucket_last = min(_ms(day_start(day, zone)), last) - 1
        if bucket_start < bucket_last // DAY_MS * DAY_MS - DAY_MS:
            return False
        if bucket_last + 1 >= last:
            return True


def _ms(instant: datetime) -> int:
    return (instant.astimezone(timezone.utc) - _EPOCH) // _ONE_MS


def _instant(ms: int) -> datetime:
    return _EPOCH + ms * _ONE_MS


class SlotQueryBuilder(QueryBuilder):
    """The statement of an eligible plan over ``session_slots``, ``fresh_events`` and ``rolled_events``."""

    def __init__(self, plan: QueryPlan, dialect: str, *, source: SplitSource | None = None, prefix: str = "",
                 names: list[str] | None = None, first_rows: bool = False, lone: bool = False) -> None:
        """``source``: the AWS tables split at the compaction watermark (it must name a slots table); without
        it the statement reads ``session_slots``, ``rolled_events`` and ``fresh_events`` (the local engine
        binds them per partition). ``first_rows``: the statement reads only ``session_slots`` and counts
        sessions (visitors) per bucket as first rows (``first_rows_eligible``); the engine runs it only when
        every day of the ranges is rolled up with first-row columns (``FirstRowStatement``). ``lone``: a
        session plan that takes a lone slot row (its session's only slot row in the site's slots, and no
        event row of the session in range) as the session's row without grouping (``lone_eligible``); the
        engine runs it only when ``spanning_sessions`` was computed from every slot file read."""
        if not slots_eligible(plan):
            raise ValueError("the plan's values do not merge over session slots")
        if source is not None and source.slots is None:
            raise ValueError("a split source without a slots table")
        if first_rows and (source is not None or not first_rows_eligible(plan)):
            raise ValueError("the plan cannot count first rows")
        if lone and (source is not None or not lone_eligible(plan)):
            raise ValueError("the plan cannot take lone slot rows")
        super().__init__(plan, dialect, SLOTS_TABLE, prefix=prefix, names=names)
        self.source = source
        self.first_rows = first_rows
        self.lone = lone
        self.first_visitors = first_rows and first_visitor_rows(plan)

    # --- the ranges: whole slots inside each range, and the pieces outside them

    def _inner(self, index: int) -> tuple[datetime, datetime] | None:
        """``[cs, fe)``: the range shrunk to slot boundaries (None when no whole slot fits)."""
        time_range = self.plan.ranges[index]
        start, end = _ms(time_range.start), _ms(time_range.end)
        inner_start = -(-start // SLOT_MS) * SLOT_MS
        inner_end = end // SLOT_MS * SLOT_MS
        return (_instant(inner_start), _instant(inner_end)) if inner_start < inner_end else None

    def _between(self, start: datetime, end: datetime) -> exp.Expression:
        return and_all([
            exp.GTE(this=col("ts"), expression=self.dialect.timestamp(start)),
            exp.LT(this=col("ts"), expression=self.dialect.timestamp(end)),
        ])

    def _slot_condition(self) -> exp.Expression | None:
        parts = [self._between(*inner) for i in range(len(self.plan.ranges)) if (inner := self._inner(i)) is not None]
        return or_all(parts) if parts else None

    def _edge_condition(self) -> exp.Expression | None:
        """Instants of the ranges outside their whole slots (read from the rolled-up partitions' events)."""
        parts: list[exp.Expression] = []
        for i, time_range in enumerate(self.plan.ranges):
            inner = self._inner(i)
            if inner is None:
                parts.append(self._between(time_range.start, time_range.end))
                continue
            if time_range.start < inner[0]:
                parts.append(self._between(time_range.start, inner[0]))
            if inner[1] < time_range.end:
                parts.append(self._between(inner[1], time_range.end))
        return or_all(parts) if parts else None

    # --- slot_rows: the union of the three sides

    def _stamped_columns(self) -> tuple[str, ...]:
        needed: set[str] = set()
        for dimension in self._all_dimensions():
            if kind_of(dimension).stamped:
                needed |= set(kind_of(dimension).reads(dimension))
        return tuple(sorted(needed))

    def _days(self, side: str) -> tuple[str, str, str] | None:
        """The table a side reads and its partition days (None: no day of the range is on that side)."""
        first_day = (self.context.start.date() - timedelta(days=1)).isoformat()
        last_day = (self.context.end.date() + timedelta(days=1)).isoformat()
        if self.source is None:
            return side, first_day, last_day
        through = self.source.through
        if side == FRESH_TABLE:
            after = (date.fromisoformat(through) + timedelta(days=1)).isoformat()
            return (self.source.raw, max(first_day, after), last_day) if last_day >= after else None
        table = self.source.slots if side == SLOTS_TABLE else self.source.compacted
        return (table, first_day, min(last_day, through)) if first_day <= through else None

    def _side(self, side: str, condition: exp.Expression, *, slots: bool) -> exp.Select | None:
        days = self._days(side)
        if days is None:
            return None
        table, first_day, last_day = days
        ranges = self.plan.ranges
        period = lit(CURRENT) if len(ranges) == 1 else exp.Case(
            ifs=[exp.If(this=self._in_range(CURRENT), true=lit(CURRENT))], default=lit(PREVIOUS)
        )
        columns: list[exp.Expression] = [exp.alias_(period, "period"), col("ts")]
        if self._needs_last_ts:
            columns.append(col("last_ts") if slots else exp.alias_(col("ts"), "last_ts"))
        columns += [col("session_id"), col("visitor_id")]
        if slots:
            columns += [col(name) for name in self._counts]
        else:
            is_type = {
                "counted": exp.In(this=col("type"), expressions=[lit(t) for t in COUNTABLE_TYPES]),
                "pageviews": exp.EQ(this=col("type"), expression=lit("pageview")),
                "clicks": exp.EQ(this=col("type"), expression=lit("click")),
            }
            columns += [exp.alias_(flag(is_type[name]), name) for name in self._counts]
        columns += [col(name) for name in self._stamped_columns()]
        columns += [col(name) for name in self._previous_columns]
        if self.lone:
            # 1: the session's only slot row among the site's slots; 0: another slot row; -1: an event row.
            spanning = exp.select(col("session_id")).from_(SPANNING_TABLE, copy=False)
            only = and_all([exp.EQ(this=col("slots_in_day"), expression=lit(1)),
                            exp.Not(this=exp.In(this=col("session_id"), query=spanning.subquery()))])
            columns.append(exp.alias_(flag(only) if slots else lit(-1), "single"))
        conditions = [
            exp.EQ(this=col("site_id"), expression=lit(self.plan.site_id)),
            exp.Between(this=col("dt"), low=lit(first_day), high=lit(last_day)),
            condition,
        ]
        conditions += [self.filter_predicate(spec, alias=None) for spec in self._stamped_filters()]
        return exp.select(*columns).from_(_table(table), copy=False).where(and_all(conditions), copy=False)

    @property
    def _counts(self) -> tuple[str, ...]:
        """The counts the totals read (``counted`` always: it decides which sessions and rows count)."""
        if self.by_event:
            needed = {"counted", "pageviews" if "pageviews" in self.totals else "", "clicks" if "clickers" in self.totals else ""}
        else:
            reads = set(session_reads(self.totals))
            needed = {"counted", "pageviews" if reads & {"pageviews", "pageviews_in_range"} else "", "clicks" if "clicks" in reads else ""}
        return tuple(name for name in COUNTS if name in needed)

    @property
    def _previous_columns(self) -> tuple[str, ...]:
        """The first-row columns the statement reads (``first_rows`` only)."""
        if not self.first_rows:
            return ()
        wanted = {"prev_session_ts" if "sessions" in self.totals else "",
                  "prev_visitor_ts" if self.first_visitors and "visitors" in self.totals else ""}
        return tuple(name for name in ("prev_session_ts", "prev_visitor_ts") if name in wanted)

    @property
    def _needs_last_ts(self) -> bool:
        return not self.by_event and "duration_ms" in session_reads(self.totals)

    def slot_rows(self) -> exp.Expression:
        in_any_range = or_all([self._in_range(i) for i in range(len(self.plan.ranges))])
        inner = self._slot_condition()
        edges = self._edge_condition()
        if self.first_rows:  # whole slots only, every day rolled up (the engine checks)
            assert inner is not None and edges is None
            return self._side(SLOTS_TABLE, inner, slots=True)
        candidates = [
            self._side(SLOTS_TABLE, inner, slots=True) if inner is not None else None,
            self._side(FRESH_TABLE, in_any_range, slots=False),
            self._side(ROLLED_TABLE, edges, slots=False) if edges is not None else None,
        ]
        sides = [side for side in candidates if side is not None]
        if not sides:  # the ranges are nowhere (cannot happen: every day is on one side of the watermark)
            raise ValueError("a plan over session slots reads no table")
        union: exp.Expression = sides[0]
        for side in sides[1:]:
            union = exp.union(union, side, distinct=False, copy=False)
        return union

    def _stream(self) -> str:
        return self.cte("slot_rows")

    # --- grouping

    def _session_value(self, name: str) -> exp.Expression:
        """A session column over the session's slot rows (all its events in E: no event-level filter)."""
        if name == "duration_ms":
            return self.dialect.duration_ms(exp.Min(this=col("ts", EVENT)), exp.Max(this=col("last_ts", EVENT)))
        if name == "counted" and "events" not in self.totals:
            # Only "has a counted event" is read (``counted > 0``): a MAX state is cheaper than a SUM.
            return exp.Max(this=col("counted", EVENT))
        source = {"counted": "counted", "pageviews": "pageviews", "pageviews_in_range": "pageviews", "clicks": "clicks"}[name]
        return exp.Sum(this=col(source, EVENT))

    def _lone(self) -> exp.Expression:
        """The row is its session's only row in E: its only slot row and no event row of it in range."""
        joined = exp.select(col("session_id")).from_(self.cte("event_sessions"), copy=False)
        return and_all([exp.EQ(this=col("single", EVENT), expression=lit(1)),
                        exp.Not(this=exp.In(this=col("session_id", EVENT), query=joined.subquery()))])

    def event_sessions(self) -> exp.Select:
        """Sessions with an event row in range (fresh or rolled-up partitions' events)."""
        return (exp.select(col("session_id")).distinct().from_(self.cte("slot_rows"), copy=False)
                .where(and_all([exp.LT(this=col("single"), expression=lit(0)),
                                exp.Not(this=exp.Is(this=col("session_id"), expression=exp.Null()))]), copy=False))

    def lone_sessions(self) -> exp.Select:
        """Lone rows as session rows: the row's own values are the session's."""
        values = {
            "duration_ms": lambda: self.dialect.duration_ms(col("ts", EVENT), col("last_ts", EVENT)),
            "counted": lambda: col("counted", EVENT),
            "pageviews": lambda: col("pageviews", EVENT),
            "pageviews_in_range": lambda: col("pageviews", EVENT),
            "clicks": lambda: col("clicks", EVENT),
        }
        columns: list[exp.Expression] = [col(k, EVENT) for k in self.period_keys] + [col("session_id", EVENT)]
        if not self._visitors_from_rows:
            columns.append(col("visitor_id", EVENT))
        columns += [exp.alias_(self.dimension_value(d), n) for n, d in zip(self.names, self.plan.dimensions)]
        columns += [exp.alias_(values[n](), n) for n in session_reads(self.totals)]
        return self._stream_from().select(*columns, copy=False).where(self._lone(), copy=False)

    def slot_sessions(self) -> exp.Expression:
        """The session rows: grouped slot rows, and with ``lone`` the lone rows beside them ungrouped."""
        grouped = self._grouped_slot_sessions()
        if not self.lone:
            return grouped
        others = exp.Not(this=exp.Is(this=exp.Paren(this=self._lone()), expression=exp.true()))
        return exp.union(grouped.where(others, copy=False), self.lone_sessions(), distinct=False, copy=False)

    def _grouped_slot_sessions(self) -> exp.Select:
        """One row per (period, session): its visitor id and first row's attributes, its sums and duration.

        The visitor id is stored on every event of the session (spec §3.8.2), so any row's is the first
        event's: ``MAX`` (as the event-level plans' session step) keeps a far smaller aggregate state
        than a first-by-time over millions of sessions (measured: ~20 % of the 90-day aggregate)."""
        ts = col("ts", EVENT)
        columns: list[exp.Expression] = [col(k, EVENT) for k in self.period_keys] + [col("session_id", EVENT)]
        if not self._visitors_from_rows:
            columns.append(exp.alias_(exp.Max(this=col("visitor_id", EVENT)), "visitor_id"))
        for name, dimension in zip(self.names, self.plan.dimensions):
            columns.append(exp.alias_(self.dialect.first_by(self.dimension_value(dimension), ts.copy()), name))
        columns += [exp.alias_(self._session_value(n), n) for n in session_reads(self.totals)]
        keys = [col(k, EVENT) for k in self.period_keys] + [col("session_id", EVENT)]
        return self._stream_from().select(*columns, copy=False).group_by(*keys, copy=False)

    def slot_counted(self) -> exp.Select:
        """Rows with a counted event, with their group values (a slot lies whole in one time bucket)."""
        columns: list[exp.Expression] = [col(k, EVENT) for k in self.period_keys]
        columns += [col("session_id", EVENT), col("visitor_id", EVENT)]
        columns += [exp.alias_(self.dimension_value(d), n) for n, d in zip(self.names, self.plan.dimensions)]
        columns += [col(name, EVENT) for name in self._counts]
        for name in self._previous_columns:
            columns.append(exp.alias_(flag(self._first_in_bucket(col(name, EVENT))), FIRST_FLAGS[name]))
        return self._stream_from().select(*columns, copy=False).where(exp.GT(this=col("counted", EVENT), expression=lit(0)), copy=False)

    def _first_in_bucket(self, previous: exp.Expression) -> exp.Expression:
        """The row is the first counted row of its session (visitor) in its bucket and range: the previous
        one (``previous``, within the lookback) is none, before the row's range or in an earlier bucket."""
        ranges = self.plan.ranges
        start: exp.Expression = self.dialect.timestamp(ranges[CURRENT].start)
        if len(ranges) > 1:
            start = exp.Case(ifs=[exp.If(this=exp.EQ(this=col("period", EVENT), expression=lit(CURRENT)), true=start)],
                             default=self.dialect.timestamp(ranges[PREVIOUS].start))
        time_dimension = self.plan.time_dimension
        ctx = self.context
        bucket = bucket_key(time_dimension.name, ctx.timezone, ctx.start, ctx.end, self.dialect, previous.copy())
        mine = bucket_key(time_dimension.name, ctx.timezone, ctx.start, ctx.end, self.dialect, col("ts", EVENT))
        return or_all([
            exp.Is(this=previous.copy(), expression=exp.Null()),
            exp.LT(this=previous.copy(), expression=start),
            exp.LT(this=bucket, expression=mine),
        ])

    def slot_groups_of_counted(self) -> exp.Select:
        """Totals per group straight over counted rows: a session falls in a group iff it has a counted
        row there, so sessions (and clickers: sessions with a counted click) are distinct session ids."""
        def distinct(value: exp.Expression) -> exp.Expression:
            return exp.Count(this=exp.Distinct(expressions=[value]))

        clicked = exp.Case(ifs=[exp.If(this=exp.GT(this=col("clicks"), expression=lit(0)), true=col("session_id"))])
        values = {
            "visitors": lambda: (exp.Sum(this=col(FIRST_FLAGS["prev_visitor_ts"])) if self.first_visitors
                                 else distinct(col("visitor_id"))),
            "sessions": lambda: (exp.Sum(this=col(FIRST_FLAGS["prev_session_ts"])) if self.first_rows
                                 else distinct(col("session_id"))),
            "clickers": lambda: distinct(clicked),
            "pageviews": lambda: exp.Sum(this=col("pageviews")),
            "events": lambda: exp.Sum(this=col("counted")),
        }
        columns = self._group_keys() + [zero_if_null(values[t](), t) for t in self.totals]
        return self._grouped_by(exp.select(*columns).from_(self.cte("counted"), copy=False))

    @property
    def _visitors_from_rows(self) -> bool:
        """Without dimensions, distinct visitors come straight from the rows with a counted event (every row
        carries its session's visitor id, and a session is kept iff it has such a row), so the session
        ``GROUP BY`` keeps no visitor state (measured: the 90-day aggregate's statement 490 -> 411 ms)."""
        return not self.by_event and not self.plan.dimensions and "visitors" in self.totals

    def slot_visitors(self) -> exp.Select:
        """Distinct visitors per period over the rows with a counted event."""
        visitors = zero_if_null(exp.Count(this=exp.Distinct(expressions=[col("visitor_id")])), "visitors")
        query = (exp.select(*self._group_keys(), visitors).from_(self.cte("slot_rows"), copy=False)
                 .where(exp.GT(this=col("counted"), expression=lit(0)), copy=False))
        return self._grouped_by(query)

    def groups_with_visitors(self) -> exp.Select:
        """The session groups (one per period) with the visitors of ``slot_visitors`` beside them."""
        others = [t for t in self.totals if t != "visitors"]
        columns = [col("period", "s")] + [col(t, "s") for t in others]
        columns.append(exp.alias_(fn("coalesce", col("visitors", "v"), lit(0)), "visitors"))
        return (exp.select(*columns).from_(exp.alias_(exp.to_table(self.cte("session_groups")), "s", table=True), copy=False)
                .join(exp.alias_(exp.to_table(self.cte("slot_visitors")), "v", table=True),
                      on=exp.EQ(this=col("period", "s"), expression=col("period", "v")), join_type="left", copy=False))

    def ctes(self) -> list[tuple[str, exp.Expression]]:
        chain: list[tuple[str, exp.Expression]] = [(self.cte("slot_rows"), self.slot_rows())]
        if self.lone:
            chain.append((self.cte("event_sessions"), self.event_sessions()))
        if self._visitors_from_rows:
            session_groups = self.groups_of_sessions("sessions", tuple(t for t in self.totals if t != "visitors"))
            chain += [(self.cte("sessions"), self.slot_sessions()), (self.cte("session_groups"), session_groups),
                      (self.cte("slot_visitors"), self.slot_visitors()), (self.cte("groups"), self.groups_with_visitors())]
        elif not self.by_event:
            chain += [(self.cte("sessions"), self.slot_sessions()), (self.cte("groups"), self.groups_of_sessions("sessions"))]
        else:
            chain += [(self.cte("counted"), self.slot_counted()), (self.cte("groups"), self.slot_groups_of_counted())]
        return chain


class _ChosenStatement:
    """A plan with two slot statements, of which the local engine runs one under its read lock: its own
    (``sql``, built with ``OPTION``) when the files it reads allow, else the plan's plain slot statement
    (``fallback_sql``). Only the statement run is built (~4 ms each); ``built`` is it, for decoding rows."""

    OPTION = ""
    plan: QueryPlan
    dialect: str
    built: BuiltQuery | None

    def sql(self) -> str:
        self.built = SlotQueryBuilder(self.plan, self.dialect, **{self.OPTION: True}).build()
        return self.built.sql(self.dialect, last=True)

    def fallback_sql(self) -> str:
        self.built = SlotQueryBuilder(self.plan, self.dialect).build()
        return self.built.sql(self.dialect, last=True)


@dataclass
class FirstRowStatement(_ChosenStatement):
    """A plan with a first-row statement (``first_rows_eligible``): the engine runs it when every partition
    of ``first_day``…``last_day``, the UTC days the ranges touch, is rolled up with first-row columns and
    no other row is in range."""

    OPTION = "first_rows"
    first_day: date
    last_day: date
    plan: QueryPlan
    dialect: str
    built: BuiltQuery | None = None


def lone_eligible(plan: QueryPlan) -> bool:
    """A session plan over slots (no event-level or time dimension): its session rows can come straight
    from lone slot rows."""
    return slots_eligible(plan) and not any(d.level != "session" for d in plan.dimensions)


@dataclass
class LoneStatement(_ChosenStatement):
    """A plan with a lone-row statement (``lone_eligible``): the engine runs it when the site's spanning
    sessions were computed from every slot file the statement reads."""

    OPTION = "lone"
    plan: QueryPlan
    dialect: str
    built: BuiltQuery | None = None


def lone_statement(plan: QueryPlan, dialect: str) -> LoneStatement | None:
    return LoneStatement(plan, dialect) if lone_eligible(plan) else None


def first_row_statement(plan: QueryPlan, dialect: str) -> FirstRowStatement | None:
    if not first_rows_eligible(plan):
        return None
    first = min(r.start for r in plan.ranges).astimezone(timezone.utc).date()
    last = (max(r.end for r in plan.ranges) - _ONE_MS).astimezone(timezone.utc).date()
    return FirstRowStatement(first, last, plan, dialect)
