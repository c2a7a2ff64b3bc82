"""Deterministic simulation of an email-personalisation data platform.

``datahealth demo`` needs something realistic to monitor without asking the user for credentials,
so this module builds a small but believable platform on local disk: a DuckDB warehouse
(products, customers, email events, purchases) and a file lake (hive-partitioned clickstream
parquet, daily CRM CSV exports). Thirty simulated days are appended one at a time and four
incidents (:data:`DEMO_FAULTS`) are injected on fixed days, so the demo can show the monitor
catching each of them while staying quiet on everything else.

Design choices that matter to callers:

* **Bulk SQL, no Python row loops.** Rows come from DuckDB ``range()`` plus hash-based
  pseudo-randomness, so a full 30-day run (~1.5 M rows) takes a few seconds.
* **Deterministic.** Every random draw is a hash of ``(salt, tag, row)`` where the salt is
  derived from the seed (and day), and per-day volumes come from a string-seeded
  :class:`random.Random`.
  The same seed therefore produces the same rows, ids and files on every machine running the
  same DuckDB version.
* **Daily batch semantics.** The batch that lands on simulation day ``d`` (at
  :meth:`DemoPlatform.load_time`, 05:30 UTC on :meth:`DemoPlatform.day_date`, earlier only for a
  demo run before then) carries the activity of the previous calendar day
  (:meth:`DemoPlatform.activity_window`). That is how nightly ELT jobs behave and it keeps
  ``event_date`` partitions consistent with ``event_ts``.
* **Short-lived connections.** :meth:`DemoPlatform.append_day` closes its DuckDB connection
  before returning because the monitor re-opens the file read-only in the same process and
  DuckDB refuses two differently-configured connections to one file.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb

from datahealth.demo.clickstream_topic import write_recording

DEMO_START = date(2026, 10, 1)
"""Day 0 of the simulation; the demo runs 30 days, i.e. day indices 0..29."""

DEMO_DAYS = 30
"""Number of simulated days the demo is designed for (the fault schedule fits inside it)."""

WAREHOUSE_DATASETS = (
    "warehouse.products",
    "warehouse.customers",
    "warehouse.email_events",
    "warehouse.purchases",
)
LAKE_DATASETS = ("lake.clickstream", "lake.crm_exports")
DATASETS = WAREHOUSE_DATASETS + LAKE_DATASETS
"""Every dataset name :meth:`DemoPlatform.append_day` reports on, in a stable order."""
STREAM_DATASETS = ("stream.clickstream",)
"""The Kafka topic feeding lake.clickstream, recorded by :mod:`datahealth.demo.clickstream_topic`."""
_DROPPED_SHARE = 0.03

INITIAL_CUSTOMERS = 5_000
PRODUCT_COUNT = 200
LOAD_CLOCK = time(5, 30)
"""Wall-clock time (UTC) at which each day's batch lands."""

_EMAIL_EVENTS_PER_WEEKDAY = 20_000
_WEEKEND_FACTOR = 0.6  # ~40 % less email activity on Saturday/Sunday
_CLICKS_PER_DAY = 30_000
_CLICK_SESSION_LENGTH = 6
_HISTORY_YEARS = 3  # initial customers were created over this many years before day 0
_DUPLICATED_CUSTOMERS = 25
_NULL_CUSTOMER_RATE = 0.03


@dataclass(frozen=True)
class DemoFault:
    """One incident the demo injects, so the demo can tell users what the monitor should find.

    `description` names dates as `{load}` (the day the batch lands) and `{activity}` (the day before,
    whose activity it carries): the demo's timeline ends on the day it runs, so :meth:`describe` fills
    them in from the platform's start.
    """

    day: int
    dataset: str
    kind: str
    description: str

    def describe(self, start: date = DEMO_START) -> str:
        load = start + timedelta(days=self.day)
        return self.description.format(load=load.isoformat(), activity=(load - timedelta(days=1)).isoformat())


DEMO_FAULTS: tuple[DemoFault, ...] = (
    DemoFault(
        day=9,
        dataset="stream.clickstream",
        kind="consumer_stalls",
        description=(
            "On {load} the lake loader consuming the clickstream topic crashes at 03:10 and nobody "
            "restarts it until the next day, so clicks pile up unprocessed."
        ),
    ),
    DemoFault(
        day=13,
        dataset="lake.clickstream",
        kind="events_dropped",
        description=(
            "The clickstream partition event_date={activity}, landed on {load}, silently misses "
            "3% of the events the topic received that day."
        ),
    ),
    DemoFault(
        day=18,
        dataset="warehouse.email_events",
        kind="required_nulls",
        description=(
            "About 3% of the email events loaded on {load} arrive without a customer_id, "
            "as if the upstream identity lookup silently timed out."
        ),
    ),
    DemoFault(
        day=22,
        dataset="warehouse.customers",
        kind="duplicate_rows",
        description=(
            "A retried CRM sync on {load} re-inserts " + str(_DUPLICATED_CUSTOMERS) + " existing customers, "
            "duplicating their customer_id."
        ),
    ),
    DemoFault(
        day=25,
        dataset="warehouse.purchases",
        kind="stops_loading",
        description=(
            "From {load} the purchases feed stops delivering rows after an expired API token, "
            "so the table silently goes stale."
        ),
    ),
    DemoFault(
        day=27,
        dataset="lake.clickstream",
        kind="schema_drift",
        description=(
            "The clickstream partition event_date={activity}, landed on {load}, has duration_ms "
            "written as text (e.g. '1234ms') and an unexpected experiment_id column."
        ),
    ),
)
"""The incidents ``append_day`` injects; :meth:`DemoFault.describe` dates their descriptions."""

# --------------------------------------------------------------------------------------------
# Vocabulary. Kept ASCII-only and apostrophe-free so it can be embedded as SQL literals safely
# and so generated e-mail addresses look like real ones.
# --------------------------------------------------------------------------------------------
_FIRST_NAMES = (
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ines", "Jonas",
    "Katharina", "Lukas", "Mia", "Noah", "Olivia", "Paul", "Quentin", "Rosa", "Sophie", "Tom",
    "Ursula", "Victor", "Wendy", "Xavier", "Yara", "Zoe", "Lea", "Finn", "Julia", "Max",
    "Chloe", "Louis", "Lucia", "Mateo", "Amelia", "Oliver", "Isla", "Daan", "Sanne", "Liam",
)  # fmt: skip
_LAST_NAMES = (
    "Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Jansen", "deVries", "Bakker", "Visser", "Martin", "Bernard", "Dubois", "Laurent",
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Johnson", "Miller", "Davis",
    "Garcia", "Martinez", "Lopez", "Sanchez", "Romero", "Navarro", "Hoffmann", "Koch",
    "Richter", "Klein", "Wolf", "Peters", "Mulder", "Bos", "Moreau", "Evans",
)  # fmt: skip
# (country code, cumulative probability); the last bound must be 1.0.
_COUNTRIES = (("DE", 0.30), ("NL", 0.42), ("FR", 0.57), ("GB", 0.75), ("US", 0.90), ("ES", 1.0))
_CATEGORIES = ("apparel", "footwear", "accessories", "home", "beauty", "electronics")
_CATEGORY_NOUNS = (
    ("T-Shirt", "Hoodie", "Denim Jacket", "Jeans", "Summer Dress", "Knit Sweater", "Chinos"),
    ("Sneakers", "Chelsea Boots", "Sandals", "Loafers", "Running Shoes", "Hiking Boots"),
    ("Backpack", "Wallet", "Scarf", "Cap", "Sunglasses", "Leather Belt", "Tote Bag"),
    ("Scented Candle", "Mug", "Throw Blanket", "Vase", "Cushion", "Table Lamp"),
    ("Face Cream", "Shampoo", "Lip Balm", "Serum", "Eau de Parfum", "Body Lotion"),
    ("Wireless Earbuds", "Phone Case", "Fast Charger", "Smartwatch", "Bluetooth Speaker"),
)
_CATEGORY_PRICE_RANGES = ((15, 120), (40, 220), (10, 150), (8, 90), (6, 80), (15, 300))
_ADJECTIVES = (
    "Classic", "Essential", "Organic", "Urban", "Vintage", "Premium", "Everyday", "Nordic",
    "Coastal", "Minimal", "Heritage", "Studio", "Alpine", "Soft", "Bold", "Eco",
)  # fmt: skip
_CAMPAIGN_THEMES = (
    "newsletter", "new_arrivals", "abandoned_cart", "winback", "vip_early_access",
    "welcome_series", "weekend_sale", "price_drop", "back_in_stock", "birthday",
)  # fmt: skip
_EXTERNAL_REFERRERS = (
    "(direct)", "(direct)", "https://www.google.com/", "https://www.google.com/",
    "https://www.google.com/", "https://mail.example.com/", "https://mail.example.com/",
    "https://www.instagram.com/", "https://www.bing.com/", "https://www.facebook.com/",
)  # fmt: skip
_EXPERIMENTS = ("checkout_redesign_a", "checkout_redesign_b", "control")

_DDL = (
    """
    CREATE TABLE products (
        product_id INTEGER PRIMARY KEY,
        sku VARCHAR,
        name VARCHAR,
        category VARCHAR,
        price DECIMAL(10, 2),
        created_at TIMESTAMP,
        updated_at TIMESTAMP
    )
    """,
    # Deliberately no PRIMARY KEY: the day-22 fault has to be able to insert duplicates.
    """
    CREATE TABLE customers (
        customer_id BIGINT,
        email VARCHAR,
        first_name VARCHAR,
        last_name VARCHAR,
        country VARCHAR,
        segment VARCHAR,
        opted_in BOOLEAN,
        created_at TIMESTAMP,
        updated_at TIMESTAMP
    )
    """,
    """
    CREATE TABLE email_events (
        event_id BIGINT,
        customer_id BIGINT,
        campaign_id VARCHAR,
        event_type VARCHAR,
        event_ts TIMESTAMP,
        subject_variant VARCHAR,
        device VARCHAR
    )
    """,
    """
    CREATE TABLE purchases (
        purchase_id BIGINT,
        customer_id BIGINT,
        product_id INTEGER,
        quantity INTEGER,
        amount DECIMAL(12, 2),
        currency VARCHAR,
        purchased_at TIMESTAMP,
        attributed_campaign_id VARCHAR
    )
    """,
)


def _sql_str(value: str) -> str:
    """Quote a trusted constant as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: tuple[str, ...]) -> str:
    """Render a tuple of trusted constants as a DuckDB list literal."""
    return "[" + ", ".join(_sql_str(v) for v in values) + "]"


_PARAM = re.compile(r"\$([A-Za-z_]\w*)")


def _run(con: duckdb.DuckDBPyConnection, sql: str, values: dict[str, Any]) -> None:
    """Execute ``sql`` with just the named parameters it references.

    DuckDB rejects unused named parameters, and the generators share one bag of per-day values
    (window bounds, salt, id offsets), so the bag is trimmed to what each statement mentions.
    """
    names = set(_PARAM.findall(sql))
    missing = names - values.keys()
    if missing:
        raise KeyError(f"missing SQL parameters: {sorted(missing)}")
    con.execute(sql, {name: values[name] for name in names})


def _vocab_macro(name: str, values: tuple[str, ...]) -> str:
    """Macro ``name(k, tag, i)`` drawing uniformly from a constant vocabulary."""
    return (
        f"CREATE OR REPLACE TEMP MACRO {name}(k, tag, i) AS "
        f"pick({_sql_list(values)}, {len(values)}, k, tag, i)"
    )


def _connect(database: str) -> duckdb.DuckDBPyConnection:
    """Open a generator connection with one DuckDB thread and the generator macros installed.

    The warehouse and lake batches run concurrently on two connections; letting each also
    spawn a thread per core oversubscribes small machines and was measured ~2x slower than
    one thread apiece (the per-day queries are too small to benefit from intra-query
    parallelism anyway). Passing it at connect time also skips starting the thread pool.
    """
    con = duckdb.connect(database, config={"threads": 1})
    try:
        con.execute(";\n".join(_macro_ddl()))
    except BaseException:
        con.close()
        raise
    return con


def _macro_ddl() -> tuple[str, ...]:
    """Temporary macros that turn ``hash()`` into the random draws the generators need.

    They are TEMP so nothing demo-specific leaks into the warehouse the monitor inspects, and
    they are rebuilt on every connection because :meth:`DemoPlatform.append_day` never keeps a
    connection open.
    """
    country_case = " ".join(
        f"WHEN rnd(s, 'country', id) < {bound} THEN {_sql_str(code)}" for code, bound in _COUNTRIES[:-1]
    )
    nouns = "[" + ", ".join(_sql_list(n) for n in _CATEGORY_NOUNS) + "]"
    return (
        # DuckDB's multi-argument hash() combines the per-argument hashes weakly: ordering
        # by hash(k, 'a', i) and by hash(k, 'b', i) was measured to correlate at ~0.6, which
        # made e.g. all early events 'sent' + variant 'A'. Re-hashing through the integer
        # (murmur-style) finaliser decorrelates streams that differ only by tag.
        "CREATE OR REPLACE TEMP MACRO h(k, tag, i) AS hash(xor(hash(k, tag), hash(i)))",
        # Uniform draw in [0, 1): the top 53 bits of a 64-bit hash fill a double's mantissa.
        "CREATE OR REPLACE TEMP MACRO rnd(k, tag, i) AS ((h(k, tag, i) >> 11)::DOUBLE / 9007199254740992.0)",
        # ``n`` is passed explicitly: evaluating len(xs) per row makes picks ~4x slower.
        "CREATE OR REPLACE TEMP MACRO pick(xs, n, k, tag, i) AS "
        "list_element(xs, (1 + h(k, tag, i) % n)::BIGINT)",
        # Integer in [1, n].
        "CREATE OR REPLACE TEMP MACRO pick_id(n, k, tag, i) AS (1 + h(k, tag, i) % n)::BIGINT",
        # Fraction of a day with a daytime bump: 75 % of activity falls between 07:00 and 22:00.
        "CREATE OR REPLACE TEMP MACRO day_frac(k, tag, i) AS CASE "
        "WHEN rnd(k, tag || ':daytime', i) < 0.75 THEN (7 + 15 * rnd(k, tag, i)) / 24 "
        "ELSE rnd(k, tag, i) END",
        "CREATE OR REPLACE TEMP MACRO at_frac(start_ts, span_us, f) AS "
        "start_ts + to_microseconds((f * span_us)::BIGINT)",
        # Customer attributes are pure functions of (seed, customer_id) so that every dataset
        # referring to a customer (CRM export e-mail, purchase currency) agrees with the warehouse.
        _vocab_macro("pick_first_name", _FIRST_NAMES),
        _vocab_macro("pick_last_name", _LAST_NAMES),
        _vocab_macro("pick_adjective", _ADJECTIVES),
        _vocab_macro("pick_category", _CATEGORIES),
        _vocab_macro("pick_referrer", _EXTERNAL_REFERRERS),
        _vocab_macro("pick_experiment", _EXPERIMENTS),
        "CREATE OR REPLACE TEMP MACRO c_first(s, id) AS pick_first_name(s, 'first', id)",
        "CREATE OR REPLACE TEMP MACRO c_last(s, id) AS pick_last_name(s, 'last', id)",
        "CREATE OR REPLACE TEMP MACRO c_email(s, id) AS "
        "lower(c_first(s, id)) || '.' || lower(c_last(s, id)) || id::VARCHAR || '@example.com'",
        f"CREATE OR REPLACE TEMP MACRO c_country(s, id) AS CASE {country_case} "
        f"ELSE {_sql_str(_COUNTRIES[-1][0])} END",
        "CREATE OR REPLACE TEMP MACRO c_currency(s, id) AS "
        "CASE c_country(s, id) WHEN 'GB' THEN 'GBP' WHEN 'US' THEN 'USD' ELSE 'EUR' END",
        "CREATE OR REPLACE TEMP MACRO c_opted_in(s, id) AS rnd(s, 'opted_in', id) < 0.85",
        f"CREATE OR REPLACE TEMP MACRO category_nouns() AS {nouns}",
        f"CREATE OR REPLACE TEMP MACRO category_names() AS {_sql_list(_CATEGORIES)}",
        "CREATE OR REPLACE TEMP MACRO price_lo() AS "
        f"[{', '.join(str(lo) for lo, _ in _CATEGORY_PRICE_RANGES)}]",
        "CREATE OR REPLACE TEMP MACRO price_hi() AS "
        f"[{', '.join(str(hi) for _, hi in _CATEGORY_PRICE_RANGES)}]",
    )


# --------------------------------------------------------------------------------------------
# Generator SQL. All values come in as named parameters; only trusted macros are inlined above.
# --------------------------------------------------------------------------------------------
_INSERT_PRODUCTS = """
INSERT INTO products
WITH base AS (
    SELECT
        range AS id,
        (1 + h($k, 'category', range) % 6)::BIGINT AS ci,
        at_frac($hist_start, $hist_span_us, rnd($k, 'product_created', range)) AS created
    FROM range(1, $n + 1)
)
SELECT
    id::INTEGER AS product_id,
    'SKU-' || lpad(id::VARCHAR, 5, '0') AS sku,
    pick_adjective($k, 'adjective', id) || ' '
        || pick(list_element(category_nouns(), ci), len(list_element(category_nouns(), ci)), $k, 'noun', id)
        AS name,
    list_element(category_names(), ci) AS category,
    (round(list_element(price_lo(), ci)
        + rnd($k, 'price', id) * (list_element(price_hi(), ci) - list_element(price_lo(), ci)))
        - 0.01)::DECIMAL(10, 2) AS price,
    created AS created_at,
    created + to_microseconds(
        ((epoch_us($hist_end) - epoch_us(created)) * rnd($k, 'product_updated', id))::BIGINT
    ) AS updated_at
FROM base
ORDER BY id
"""

_BUMP_PRODUCTS = """
UPDATE products
SET updated_at = at_frac($w_start, $w_span_us, day_frac($k, 'bump_ts', product_id))
WHERE product_id IN (
    SELECT range::INTEGER FROM range(1, $n_products + 1) ORDER BY h($k, 'bump', range) LIMIT $n
)
"""

# Initial customer base: created over a few years (skewed towards recent growth), ids assigned
# in creation order like an auto-increment key would be.
_INSERT_INITIAL_CUSTOMERS = """
INSERT INTO customers
WITH drawn AS (
    SELECT
        range AS i,
        at_frac($hist_start, $hist_span_us, 1 - pow(rnd($k, 'created', range), 1.6)) AS created
    FROM range(0, $n)
), ordered AS (
    SELECT row_number() OVER (ORDER BY created, i) + $id0 AS id, created FROM drawn
)
SELECT
    id AS customer_id,
    c_email($seed, id) AS email,
    c_first($seed, id) AS first_name,
    c_last($seed, id) AS last_name,
    c_country($seed, id) AS country,
    CASE
        WHEN created >= $hist_end - INTERVAL 30 DAY THEN 'new'
        WHEN rnd($seed, 'segment', id) < 0.06 THEN 'vip'
        WHEN rnd($seed, 'segment', id) < 0.55 THEN 'active'
        ELSE 'lapsed'
    END AS segment,
    c_opted_in($seed, id) AS opted_in,
    created AS created_at,
    created + to_microseconds(
        ((epoch_us($hist_end) - epoch_us(created)) * pow(rnd($k, 'updated', id), 3))::BIGINT
    ) AS updated_at
FROM ordered
ORDER BY id
"""

_INSERT_NEW_CUSTOMERS = """
INSERT INTO customers
WITH drawn AS (
    SELECT range AS i, at_frac($w_start, $w_span_us, day_frac($k, 'created', range)) AS created
    FROM range(0, $n)
), ordered AS (
    SELECT row_number() OVER (ORDER BY created, i) + $id0 AS id, created FROM drawn
)
SELECT
    id AS customer_id,
    c_email($seed, id) AS email,
    c_first($seed, id) AS first_name,
    c_last($seed, id) AS last_name,
    c_country($seed, id) AS country,
    'new' AS segment,
    c_opted_in($seed, id) AS opted_in,
    created AS created_at,
    least(
        created + to_microseconds((rnd($k, 'updated', id) * 3600e6)::BIGINT),
        $w_end - INTERVAL 1 SECOND
    ) AS updated_at
FROM ordered
ORDER BY id
"""

# A retried sync re-sends a handful of already-known customers verbatim.
_DUPLICATE_CUSTOMERS = """
INSERT INTO customers
SELECT * FROM customers
WHERE customer_id IN (
    SELECT range FROM range(1, $max_customer + 1) ORDER BY h($k, 'duplicate', range) LIMIT $n
)
ORDER BY customer_id
"""

_INSERT_EMAIL_EVENTS = """
INSERT INTO email_events
WITH drawn AS (
    SELECT
        range AS i,
        rnd($k, 'event_type', range) AS t,
        at_frac($w_start, $w_span_us, day_frac($k, 'event_ts', range)) AS ts
    FROM range(0, $n)
)
SELECT
    $id0 + row_number() OVER (ORDER BY ts, i) AS event_id,
    CASE
        WHEN rnd($k, 'null_customer', i) < $null_rate THEN NULL
        ELSE pick_id($max_customer, $k, 'customer', i)
    END AS customer_id,
    pick($campaigns, $n_campaigns, $k, 'campaign', i) AS campaign_id,
    CASE
        WHEN t < 0.400 THEN 'sent'
        WHEN t < 0.785 THEN 'delivered'
        WHEN t < 0.935 THEN 'opened'
        WHEN t < 0.980 THEN 'clicked'
        WHEN t < 0.995 THEN 'bounced'
        ELSE 'unsubscribed'
    END AS event_type,
    ts AS event_ts,
    CASE WHEN rnd($k, 'variant', i) < 0.5 THEN 'A' ELSE 'B' END AS subject_variant,
    CASE
        WHEN rnd($k, 'device', i) < 0.58 THEN 'mobile'
        WHEN rnd($k, 'device', i) < 0.91 THEN 'desktop'
        ELSE 'tablet'
    END AS device
FROM drawn
ORDER BY event_id
"""

_INSERT_PURCHASES = """
INSERT INTO purchases
WITH drawn AS (
    SELECT
        range AS i,
        pick_id($max_customer, $k, 'customer', range) AS customer_id,
        pick_id($n_products, $k, 'product', range)::INTEGER AS product_id,
        CASE
            WHEN rnd($k, 'quantity', range) < 0.72 THEN 1
            WHEN rnd($k, 'quantity', range) < 0.92 THEN 2
            WHEN rnd($k, 'quantity', range) < 0.98 THEN 3
            ELSE 4
        END::INTEGER AS quantity,
        at_frac($w_start, $w_span_us, day_frac($k, 'purchased_at', range)) AS ts
    FROM range(0, $n)
)
SELECT
    $id0 + row_number() OVER (ORDER BY d.ts, d.i) AS purchase_id,
    d.customer_id,
    d.product_id,
    d.quantity,
    (d.quantity * p.price)::DECIMAL(12, 2) AS amount,
    c_currency($seed, d.customer_id) AS currency,
    d.ts AS purchased_at,
    CASE
        WHEN rnd($k, 'attributed', d.i) < 0.6 THEN NULL
        ELSE pick($attribution_campaigns, $n_attribution_campaigns, $k, 'attributed_campaign', d.i)
    END AS attributed_campaign_id
FROM drawn AS d
JOIN products AS p USING (product_id)
ORDER BY purchase_id
"""

# Sessions of a fixed number of page views sharing customer, entry referrer and start time;
# views are 45-85 s apart so their timestamps follow the order of ``pos``.
_CREATE_CLICKS = """
CREATE OR REPLACE TEMP TABLE demo_clicks AS
WITH drawn AS (
    SELECT
        range AS i,
        range // $session_length AS s,
        range % $session_length AS pos,
        md5($k || ':click:' || range::VARCHAR) AS digest
    FROM range(0, $n)
), shaped AS (
    SELECT
        *,
        rnd($k, 'page', i) AS p,
        at_frac($w_start, $w_span_us - 900e6, day_frac($k, 'session_start', s))
            + to_microseconds((pos * 45e6 + rnd($k, 'dwell', i) * 40e6)::BIGINT) AS ts
    FROM drawn
)
SELECT
    substr(digest, 1, 8) || '-' || substr(digest, 9, 4) || '-' || substr(digest, 13, 4) || '-'
        || substr(digest, 17, 4) || '-' || substr(digest, 21, 12) AS event_id,
    CASE
        WHEN rnd($k, 'anonymous', s) < 0.30 THEN NULL
        ELSE pick_id($max_customer, $k, 'session_customer', s)
    END AS customer_id,
    'sess_' || h($k, 'session', s)::VARCHAR AS session_id,
    'https://shop.example.com' || CASE
        WHEN p < 0.45 THEN '/products/' || pick_id($n_products, $k, 'page_product', i)::VARCHAR
        WHEN p < 0.60 THEN '/category/' || pick_category($k, 'page_category', i)
        WHEN p < 0.70 THEN '/'
        WHEN p < 0.80 THEN '/cart'
        WHEN p < 0.86 THEN '/checkout'
        WHEN p < 0.93 THEN '/search?q='
            || lower(replace(pick_adjective($k, 'search', i), ' ', '+'))
        ELSE '/account'
    END AS page_url,
    CASE
        WHEN pos = 0 THEN pick_referrer($k, 'referrer', s)
        ELSE 'https://shop.example.com/'
    END AS referrer,
    ts AS event_ts,
    (200 - ln(1 - rnd($k, 'duration', i)) * 9000)::BIGINT AS duration_ms
FROM shaped
ORDER BY event_ts, event_id
"""

# The day-27 incident: a producer deploy changes a column type and adds a column.
_CREATE_DRIFTED_CLICKS = """
CREATE OR REPLACE TEMP TABLE demo_clicks_drifted AS
SELECT
    * REPLACE (duration_ms::VARCHAR || 'ms' AS duration_ms),
    pick_experiment($k, 'experiment', session_id) AS experiment_id
FROM demo_clicks
"""

_CREATE_CRM_EXPORT = """
CREATE OR REPLACE TEMP TABLE demo_crm AS
WITH chosen AS (
    SELECT range AS id, rnd($k, 'stage', range) AS st
    FROM range(1, $max_customer + 1)
    ORDER BY h($k, 'crm', range)
    LIMIT $n
)
SELECT
    id AS customer_id,
    c_email($seed, id) AS email,
    CASE
        WHEN st < 0.25 THEN 'subscriber'
        WHEN st < 0.50 THEN 'lead'
        WHEN st < 0.65 THEN 'marketing_qualified'
        WHEN st < 0.75 THEN 'sales_qualified'
        WHEN st < 0.80 THEN 'opportunity'
        ELSE 'customer'
    END AS lifecycle_stage,
    least(100, greatest(0, round(st * 80 + rnd($k, 'score', id) * 25 - 5)))::INTEGER AS lead_score,
    $exported_at AS exported_at
FROM chosen
ORDER BY customer_id
"""


@dataclass(frozen=True)
class _DayPlan:
    """Volumes and campaign names for one day, drawn in Python because they are tiny."""

    new_customers: int
    email_events: int
    purchases: int
    clicks: int
    crm_rows: int
    product_bumps: int
    campaigns: tuple[str, ...]


class DemoPlatform:
    """A reproducible warehouse + lake that grows by one daily batch per :meth:`append_day`.

    Ids, volumes and values depend only on ``seed`` and the day index, so two platforms built
    with the same seed hold row-for-row identical data, which lets the demo (and its tests)
    promise exactly which incidents the monitor will report.

    ``scale`` shrinks or grows the three high-volume datasets (email events, purchases,
    clickstream) without changing anything else; the demo uses the default 1.0, tests use a
    small value to exercise all 30 days quickly.
    """

    def __init__(
        self,
        root: Path,
        seed: int = 7,
        start: date = DEMO_START,
        *,
        scale: float = 1.0,
        latest_load: datetime | None = None,
    ) -> None:
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        self.root = Path(root)
        self.seed = seed
        self.start = start
        self.scale = scale
        # The simulation's present (naive UTC): no batch lands after it, so a demo run at 03:00 UTC has
        # today's batch land early instead of monitoring yesterday's a day late (see load_time).
        self.latest_load = latest_load
        # In-memory scratch database for generating lake files. It never touches the warehouse
        # file, so keeping it across days is safe and saves re-creating a DuckDB instance and
        # its macros every day (~30 ms of CPU per day).
        self._scratch: duckdb.DuckDBPyConnection | None = None

    # -- layout ---------------------------------------------------------------------------------

    @property
    def warehouse_path(self) -> Path:
        """DuckDB file holding the ``main`` schema tables."""
        return self.root / "warehouse.duckdb"

    @property
    def lake_root(self) -> Path:
        """Directory holding the ``clickstream`` and ``crm_exports`` file datasets."""
        return self.root / "lake"

    @property
    def clickstream_root(self) -> Path:
        """Hive-partitioned parquet dataset (``event_date=YYYY-MM-DD/part-0.parquet``)."""
        return self.lake_root / "clickstream"

    @property
    def crm_exports_root(self) -> Path:
        """One CSV per day (``crm_export_YYYY-MM-DD.csv``)."""
        return self.lake_root / "crm_exports"

    def clickstream_file(self, day: int) -> Path:
        """Parquet file written by ``day``'s batch; the partition is named after the activity date."""
        activity = self.day_date(day) - timedelta(days=1)
        return self.clickstream_root / f"event_date={activity.isoformat()}" / "part-0.parquet"

    def crm_export_file(self, day: int) -> Path:
        """CSV written by ``day``'s batch; named after the export (load) date."""
        return self.crm_exports_root / f"crm_export_{self.day_date(day).isoformat()}.csv"

    # -- clock ----------------------------------------------------------------------------------

    @property
    def stream_recording(self) -> Path:
        """What the Kafka cluster says about the clickstream topic at monitoring time (``replay:``)."""
        return self.root / "streams" / "kafka.json"

    def clicks(self, day: int) -> int:
        """Clicks produced to the topic on ``day``'s activity date (all of them, whatever the load keeps)."""
        return self._plan(day).clicks

    def day_date(self, day: int) -> date:
        """Calendar date on which ``day``'s batch lands."""
        return self.start + timedelta(days=day)

    def load_time(self, day: int) -> datetime:
        """Naive UTC instant the batch lands; every lake file of that day gets it as mtime.

        `LOAD_CLOCK` on :meth:`day_date`, or earlier when that is after `latest_load`: then the batch lands
        at `latest_load`, but never before midnight, when the day whose activity it carries is over.
        """
        scheduled = datetime.combine(self.day_date(day), LOAD_CLOCK)
        if self.latest_load is None or scheduled <= self.latest_load:
            return scheduled
        return max(self.latest_load, datetime.combine(self.day_date(day), time(0, 0)))

    def activity_window(self, day: int) -> tuple[datetime, datetime]:
        """Half-open ``[start, end)`` span of event timestamps carried by ``day``'s batch.

        It is the full calendar day before :meth:`day_date`, like a nightly ELT job would
        deliver, so the newest event is always a few hours older than :meth:`load_time`.
        """
        end = datetime.combine(self.day_date(day), time(0, 0))
        return end - timedelta(days=1), end

    # -- lifecycle ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Wipe ``root`` and create the empty warehouse tables and lake directories."""
        if self.root.exists():
            for child in self.root.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        self.root.mkdir(parents=True, exist_ok=True)
        self.clickstream_root.mkdir(parents=True, exist_ok=True)
        self.crm_exports_root.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(self.warehouse_path)) as con:
            for ddl in _DDL:
                con.execute(ddl)

    def append_day(self, day: int, monitored_at: datetime | None = None) -> dict[str, int]:
        """Append ``day``'s batch to every dataset, inject that day's faults, return rows per dataset.

        ``monitored_at`` is when the monitor will look (the stream recording is what the cluster says
        then); by default two hours after the batch lands.

        Days must be appended in order starting at 0 on a freshly :meth:`reset` platform; day 0
        additionally performs the initial load (product catalogue and existing customer base).
        The DuckDB connection is closed before returning so the caller may reopen the file
        read-only.

        Lake files do not depend on warehouse state, so they are generated on a private
        in-memory DuckDB connection in a worker thread while the warehouse batch is written;
        DuckDB releases the GIL, which roughly halves the wall time of a 30-day run.
        """
        if day < 0:
            raise ValueError(f"day must be >= 0, got {day}")
        plan = self._plan(day)
        faults = {f.kind for f in DEMO_FAULTS if f.day == day}
        stopped = any(f.kind == "stops_loading" and day >= f.day for f in DEMO_FAULTS)
        w_start, w_end = self.activity_window(day)
        window = {
            "w_start": w_start,
            "w_end": w_end,
            "w_span_us": int((w_end - w_start) / timedelta(microseconds=1)),
        }
        key = f"{self.seed}:{day}"
        customers_before = self._customers_through(day - 1)
        customers_after = self._customers_through(day)
        counts = dict.fromkeys(DATASETS, 0)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="datahealth-demo-lake") as pool:
            lake = pool.submit(
                self._write_lake,
                day,
                key,
                plan,
                customers_before,
                customers_after,
                window,
                drift="schema_drift" in faults,
                drop="events_dropped" in faults,
            )
            counts.update(self._write_warehouse(day, key, plan, faults, stopped, window))
            counts.update(lake.result())
        write_recording(
            self.stream_recording, self, day, stalled="consumer_stalls" in faults, observed_at=monitored_at
        )
        return counts

    # -- internals ------------------------------------------------------------------------------

    def _write_warehouse(
        self,
        day: int,
        key: str,
        plan: _DayPlan,
        faults: set[str],
        stopped: bool,
        window: dict[str, Any],
    ) -> dict[str, int]:
        """Apply ``day``'s warehouse batch (and warehouse faults) in one short-lived connection."""
        customers_before = self._customers_through(day - 1)
        counts = dict.fromkeys(WAREHOUSE_DATASETS, 0)
        with _connect(str(self.warehouse_path)) as con:
            if day == 0:
                counts["warehouse.products"] = self._initial_load(con, key)
            else:
                _run(
                    con,
                    _BUMP_PRODUCTS,
                    {"k": key, "n": plan.product_bumps, "n_products": PRODUCT_COUNT, **window},
                )
                _run(
                    con,
                    _INSERT_NEW_CUSTOMERS,
                    {
                        "k": key,
                        "seed": self.seed,
                        "n": plan.new_customers,
                        "id0": customers_before,
                        **window,
                    },
                )
            counts["warehouse.customers"] = INITIAL_CUSTOMERS if day == 0 else plan.new_customers

            if "duplicate_rows" in faults:
                _run(
                    con,
                    _DUPLICATE_CUSTOMERS,
                    {"k": key, "n": _DUPLICATED_CUSTOMERS, "max_customer": customers_before},
                )
                counts["warehouse.customers"] += _DUPLICATED_CUSTOMERS

            _run(
                con,
                _INSERT_EMAIL_EVENTS,
                {
                    "k": key,
                    "n": plan.email_events,
                    "id0": self._email_events_before(day),
                    "max_customer": customers_before,
                    "campaigns": list(plan.campaigns),
                    "n_campaigns": len(plan.campaigns),
                    "null_rate": _NULL_CUSTOMER_RATE if "required_nulls" in faults else 0.0,
                    **window,
                },
            )
            counts["warehouse.email_events"] = plan.email_events

            if not stopped:
                previous = self._plan(day - 1).campaigns if day > 0 else ()
                _run(
                    con,
                    _INSERT_PURCHASES,
                    {
                        "k": key,
                        "seed": self.seed,
                        "n": plan.purchases,
                        "id0": self._purchases_before(day),
                        "max_customer": customers_before,
                        "n_products": PRODUCT_COUNT,
                        "attribution_campaigns": list(plan.campaigns + previous),
                        "n_attribution_campaigns": len(plan.campaigns + previous),
                        **window,
                    },
                )
                counts["warehouse.purchases"] = plan.purchases
        return counts

    def _write_lake(
        self,
        day: int,
        key: str,
        plan: _DayPlan,
        customers_before: int,
        customers_after: int,
        window: dict[str, Any],
        *,
        drift: bool,
        drop: bool = False,
    ) -> dict[str, int]:
        """Write ``day``'s lake files from the private in-memory scratch connection."""
        if self._scratch is None:
            self._scratch = _connect(":memory:")
        con = self._scratch
        try:
            return {
                "lake.clickstream": self._write_clickstream(
                    con, day, key, plan, customers_before, window, drift=drift, drop=drop
                ),
                "lake.crm_exports": self._write_crm_export(con, day, key, plan, customers_after),
            }
        finally:
            con.execute("DROP TABLE IF EXISTS demo_clicks; DROP TABLE IF EXISTS demo_clicks_drifted")
            con.execute("DROP TABLE IF EXISTS demo_crm")

    def _initial_load(self, con: duckdb.DuckDBPyConnection, key: str) -> int:
        """Load the product catalogue and the pre-existing customer base (day 0 only).

        Their history runs through the end of day 0's activity window, like every other batch: a first
        load whose newest row is a day older than the rest would look stale on the demo's first day.
        """
        _, hist_end = self.activity_window(0)
        hist_start = hist_end - timedelta(days=365 * _HISTORY_YEARS)
        history = {
            "hist_start": hist_start,
            "hist_end": hist_end,
            "hist_span_us": int((hist_end - hist_start) / timedelta(microseconds=1)),
        }
        _run(con, _INSERT_PRODUCTS, {"k": key, "n": PRODUCT_COUNT, **history})
        _run(
            con,
            _INSERT_INITIAL_CUSTOMERS,
            {"k": key, "seed": self.seed, "n": INITIAL_CUSTOMERS, "id0": 0, **history},
        )
        return PRODUCT_COUNT

    def _write_clickstream(
        self,
        con: duckdb.DuckDBPyConnection,
        day: int,
        key: str,
        plan: _DayPlan,
        max_customer: int,
        window: dict[str, Any],
        *,
        drift: bool,
        drop: bool = False,
    ) -> int:
        """Write ``day``'s clickstream partition, drifting its schema or losing 3 % of the events when the
        faults say so (the topic keeps them all: ``lake.clickstream`` reconciles against it)."""
        _run(
            con,
            _CREATE_CLICKS,
            {
                "k": key,
                "n": plan.clicks,
                "session_length": _CLICK_SESSION_LENGTH,
                "max_customer": max_customer,
                "n_products": PRODUCT_COUNT,
                **window,
            },
        )
        table = "demo_clicks"
        if drop:
            _run(
                con,
                "DELETE FROM demo_clicks WHERE rnd($k, 'dropped', hash(event_id)) < $share",
                {"k": key, "share": _DROPPED_SHARE},
            )
        if drift:
            _run(con, _CREATE_DRIFTED_CLICKS, {"k": key})
            table = "demo_clicks_drifted"
        target = self.clickstream_file(day)
        target.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY {table} TO {_sql_str(str(target))} (FORMAT parquet)")
        self._stamp(target, day)
        written = con.execute("SELECT count(*) FROM demo_clicks").fetchone()
        return int(written[0]) if written else 0

    def _write_crm_export(
        self, con: duckdb.DuckDBPyConnection, day: int, key: str, plan: _DayPlan, max_customer: int
    ) -> int:
        """Write ``day``'s CRM CSV export; the export job runs shortly before the load lands."""
        jitter = random.Random(f"datahealth-demo:{self.seed}:{day}:crm_export_at").randint(0, 600)
        exported_at = self.load_time(day) - timedelta(minutes=30) + timedelta(seconds=jitter)
        _run(
            con,
            _CREATE_CRM_EXPORT,
            {
                "k": key,
                "seed": self.seed,
                "n": plan.crm_rows,
                "max_customer": max_customer,
                "exported_at": exported_at,
            },
        )
        target = self.crm_export_file(day)
        target.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY demo_crm TO {_sql_str(str(target))} (FORMAT csv, HEADER true)")
        self._stamp(target, day)
        return plan.crm_rows

    def _stamp(self, path: Path, day: int) -> None:
        """Make the file's mtime say when the simulated batch landed, for freshness checks."""
        ts = self.load_time(day).replace(tzinfo=UTC).timestamp()
        os.utime(path, (ts, ts))

    def _plan(self, day: int) -> _DayPlan:
        """Draw ``day``'s volumes; string seeding keeps :mod:`random` stable across processes."""
        rng = random.Random(f"datahealth-demo:{self.seed}:{day}")
        activity = self.day_date(day) - timedelta(days=1)
        weekend = activity.weekday() >= 5
        events = _EMAIL_EVENTS_PER_WEEKDAY * (_WEEKEND_FACTOR if weekend else 1.0) * rng.uniform(0.95, 1.05)
        themes = rng.sample(_CAMPAIGN_THEMES, k=rng.randint(2, 4))
        # ``scale`` is applied after every draw so the random sequence (and thus every other
        # dataset) is the same at any scale.
        return _DayPlan(
            new_customers=0 if day == 0 else rng.randint(40, 80),
            email_events=max(1, round(events * self.scale)),
            purchases=max(1, round(rng.randint(800, 1200) * self.scale)),
            clicks=max(1, round(_CLICKS_PER_DAY * rng.uniform(0.95, 1.05) * self.scale)),
            crm_rows=rng.randint(300, 600),
            product_bumps=rng.randint(1, 3),
            campaigns=tuple(f"cmp_{activity:%Y%m%d}_{theme}" for theme in themes),
        )

    def _customers_through(self, day: int) -> int:
        """Highest customer_id that exists once ``day``'s batch is loaded (ids are contiguous)."""
        if day < 0:
            return INITIAL_CUSTOMERS  # day 0's events may reference the whole initial base
        return INITIAL_CUSTOMERS + sum(self._plan(d).new_customers for d in range(1, day + 1))

    def _email_events_before(self, day: int) -> int:
        """Number of email events loaded before ``day``, i.e. the next event_id offset."""
        return sum(self._plan(d).email_events for d in range(day))

    def _purchases_before(self, day: int) -> int:
        """Number of purchases loaded before ``day``, i.e. the next purchase_id offset."""
        stop = min((f.day for f in DEMO_FAULTS if f.kind == "stops_loading"), default=day)
        return sum(self._plan(d).purchases for d in range(min(day, stop)))
