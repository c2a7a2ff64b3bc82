"""The monitoring project's configuration as pydantic models.

Every model forbids unknown keys: a typo (`warn_afer`) must be an error, not a silently ignored setting.
Names follow the YAML a user writes in `sla_config/`, so an error's key path reads like the file.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from datahealth.config.values import HolidayCalendar, SampleSpec, parse_sample
from datahealth.core.durations import parse_duration


def _holidays(value: Any) -> Any:
    """A YAML list of holiday entries → a `HolidayCalendar` (a bad entry is a ValueError naming it)."""
    if isinstance(value, HolidayCalendar):
        return value
    if not isinstance(value, list | tuple):
        raise PydanticCustomError("list_type", "Input should be a valid list")
    return HolidayCalendar.parse(value)


def _sample(value: Any) -> Any:
    """`'10%'`, `5000` or `'5000 rows'` → a `SampleSpec` (anything else is a ValueError saying why)."""
    return value if isinstance(value, SampleSpec) else parse_sample(value)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Holidays = Annotated[HolidayCalendar, BeforeValidator(_holidays)]
Sample = Annotated[SampleSpec | None, BeforeValidator(_sample)]
Severity = Literal["warn", "error"]
_DATASET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*\.[^\s]+$")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SqlSourceConfig(StrictModel):
    """A warehouse reached through SQLAlchemy (PostgreSQL, DuckDB, SQLite, any installed dialect)."""

    kind: Literal["sql"]
    url: str = Field(description="SQLAlchemy URL; put secrets in ${ENV_VARS}")
    read_only: bool = True
    max_concurrency: int = Field(default=4, ge=1, le=64)
    statement_timeout: Duration = timedelta(minutes=5)
    connect_args: dict[str, str | int | float | bool] = Field(default_factory=dict)


LakeFormat = Literal["parquet", "csv", "delta", "iceberg"]


class LakeSourceConfig(StrictModel):
    """Files under a root directory or object-store prefix, read through an in-process DuckDB (docs/lakes.md)."""

    kind: Literal["lake"]
    root: str = Field(
        description="a directory, s3://bucket/prefix, abfss://container@account.dfs.core.windows.net/prefix, az://container/prefix or gs://bucket/prefix"
    )
    format: LakeFormat = "parquet"
    hive_partitioning: bool = False
    max_concurrency: int = Field(default=4, ge=1, le=64)
    statement_timeout: Duration = timedelta(minutes=5)
    storage_options: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="object stores: extra settings for the fsspec filesystem (s3fs, adlfs, gcsfs); "
        "credentials normally come from the platform's standard environment variables",
    )
    list_timeout: Duration = Field(
        default=timedelta(seconds=60),
        description="object stores: time budget for listing one dataset's prefix",
    )
    max_objects: int = Field(
        default=100_000, ge=1, description="object stores: most objects one dataset's prefix may list"
    )
    iceberg_catalog: dict[str, str] = Field(
        default_factory=dict,
        description="Iceberg: pyiceberg catalog properties, e.g. type: sql, uri: ..., warehouse: ... "
        "(type: rest or glue the same way)",
    )


class KafkaSourceConfig(StrictModel):
    """A Kafka cluster, read through its admin API and a private, never-committing reader (docs/streams.md)."""

    kind: Literal["kafka"]
    bootstrap_servers: str | None = Field(
        default=None, description="host:port[,host:port...]; put credentials in client_config as ${ENV_VARS}"
    )
    client_config: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="librdkafka settings, e.g. security.protocol: SASL_SSL, sasl.password: ${KAFKA_PASSWORD}",
    )
    replay: str | None = Field(
        default=None,
        description="read recorded broker answers from this JSON file instead of connecting (the demo's topic)",
    )
    max_concurrency: int = Field(default=4, ge=1, le=64)
    timeout: Duration = Field(default=timedelta(seconds=15), description="per broker request")

    @model_validator(mode="after")
    def _one_way_in(self) -> KafkaSourceConfig:
        if (self.bootstrap_servers is None) == (self.replay is None):
            raise ValueError("set bootstrap_servers (host:port of the brokers) or replay (a recorded file)")
        return self


class KinesisSourceConfig(StrictModel):
    """Kinesis Data Streams through boto3; credentials come from the AWS default chain, never this file."""

    kind: Literal["kinesis"]
    region: str | None = Field(default=None, description="AWS region (default: the AWS configuration's)")
    endpoint_url: str | None = Field(
        default=None, description="a Kinesis-compatible endpoint, e.g. a VPC one"
    )
    dynamodb_endpoint_url: str | None = Field(
        default=None, description="endpoint of the DynamoDB holding the consumers' checkpoint (lease) tables"
    )
    max_records: int = Field(
        default=100_000, ge=1, description="most records read to find the newest one or to count a window"
    )
    max_concurrency: int = Field(default=4, ge=1, le=64)
    timeout: Duration = Field(default=timedelta(seconds=15), description="per AWS request")


class RabbitMqSourceConfig(StrictModel):
    """A RabbitMQ broker over AMQP (queue depth, consumers), plus its management API when enabled."""

    kind: Literal["rabbitmq"]
    url: str = Field(description="amqp://user:${RABBITMQ_PASSWORD}@host:5672/vhost")
    management_url: str | None = Field(
        default=None,
        description="http(s)://host:15672 of the management plugin (same credentials): message ages and rates",
    )
    max_concurrency: int = Field(default=4, ge=1, le=64)
    timeout: Duration = Field(default=timedelta(seconds=15), description="per broker request")

    @field_validator("management_url", mode="before")
    @classmethod
    def _empty_management(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


StreamSourceConfig = KafkaSourceConfig | KinesisSourceConfig | RabbitMqSourceConfig
SourceConfig = Annotated[
    SqlSourceConfig | LakeSourceConfig | KafkaSourceConfig | KinesisSourceConfig | RabbitMqSourceConfig,
    Field(discriminator="kind"),
]
STREAM_KINDS = ("kafka", "kinesis", "rabbitmq")


class ExpectedBy(StrictModel):
    """A schedule the data should have landed by, e.g. weekdays by 06:00 Europe/Berlin.

    Each cron tick (in `timezone`, so 06:00 stays 06:00 across daylight-saving changes) is a deadline:
    by then (plus `grace`) there must be data newer than the tick before it. Days without a tick
    (weekends for `0 6 * * 1-5`) and holidays expect nothing, so a weekday table is not stale on Sunday.
    """

    cron: str = Field(description="five-field cron, e.g. '0 6 * * 1-5' = weekdays at 06:00")
    timezone: str = "UTC"
    grace: Duration = timedelta(0)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(
                f"{value!r} is not a valid cron expression (five fields: minute hour day month weekday)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin or UTC") from None
        return value


def _levels(value: Any) -> Any:
    """`15m` / `100000` (the error level) or `{warn: 5m, error: 15m}` → a levels mapping."""
    return value if isinstance(value, dict | BaseModel) else {"error": value}


class DurationLevels(StrictModel):
    """A stream limit with warn and/or error levels; a single value is the error level."""

    warn: Duration | None = None
    error: Duration | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DurationLevels:
        if self.warn is None and self.error is None:
            raise ValueError("set warn, error or both, e.g. {warn: 5m, error: 15m}")
        if self.warn and self.error and self.warn > self.error:
            raise ValueError("warn must not be longer than error")
        return self


class CountLevels(StrictModel):
    """A message-count limit with warn and/or error levels; a single number is the error level."""

    warn: int | None = Field(default=None, ge=0)
    error: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> CountLevels:
        if self.warn is None and self.error is None:
            raise ValueError("set warn, error or both, e.g. {warn: 10000, error: 100000}")
        if self.warn is not None and self.error is not None and self.warn > self.error:
            raise ValueError("warn must not be larger than error")
        return self


StreamDuration = Annotated[DurationLevels | None, BeforeValidator(_levels)]
StreamCount = Annotated[CountLevels | None, BeforeValidator(_levels)]


class FreshnessSla(StrictModel):
    """How old a dataset's newest data may be before it is a warning or an error.

    Stream datasets (topics, streams, queues) use the stream keys instead: `max_lag` (age of the oldest
    message the consumer group has not processed), `max_messages_behind` and `silent_after` (no message
    produced for this long); see docs/streams.md.
    """

    warn_after: Duration | None = None
    error_after: Duration | None = None
    expected_by: ExpectedBy | None = None
    max_lag: StreamDuration = Field(default=None, description="streams: oldest unconsumed message age")
    max_messages_behind: StreamCount = Field(default=None, description="streams: messages not yet consumed")
    silent_after: StreamDuration = Field(
        default=None, description="streams: no message produced for this long"
    )
    holidays: Holidays = Field(
        default=HolidayCalendar(),
        description="dates on which no load is expected: "
        "ISO dates (2026-12-24), yearly month-days (12-25) or ranges (2026-12-24..2026-12-31)",
    )

    @model_validator(mode="after")
    def _ordered(self) -> FreshnessSla:
        if self.warn_after and self.error_after and self.warn_after > self.error_after:
            raise ValueError("warn_after must not be longer than error_after")
        return self


class ProfileConfig(StrictModel):
    """Whether and how the dataset is profiled (one aggregate scan per run that asks for it)."""

    enabled: bool = True
    sample: Sample = Field(default=None, description="'10%' or a row count")
    window: Duration | None = Field(
        default=None, description="profile only rows of the last window (append-only tables)"
    )
    every: Literal["run", "daily"] = "run"
    exact_distinct: bool = False
    timeout: Duration | None = Field(
        default=None,
        description="cancel the profile query after this long (default: the source's statement_timeout)",
    )

    @field_validator("window", "timeout")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value.total_seconds() <= 0:
            raise ValueError("must be longer than zero, e.g. 1d or 90s")
        return value


class GeneratedChecks(StrictModel):
    """Checks datahealth writes for a dataset from its config and history; each can be switched off."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    primary_key_duplicates: bool = True
    required_columns_missing: bool = True
    schema_check: bool = Field(default=True, alias="schema")
    row_count_bounds: bool = True
    row_count_min_days: int = Field(
        default=7, ge=2, le=28, description="days of history needed before row_count bounds are generated"
    )


ColumnMetricKind = Literal["null_ratio", "null_ratio_added", "distinct_count", "distinct_added"]
_ALERTING_COLUMN_METRICS: tuple[ColumnMetricKind, ...] = ("null_ratio", "null_ratio_added", "distinct_count")


class EffectSize(StrictModel):
    """The smallest change of one column metric worth an alert, on top of being statistically unusual."""

    min_absolute: float = Field(
        ge=0, description="in the metric's unit: a ratio (0.02 = 2 points) or a count"
    )
    min_relative: float = Field(ge=0, description="as a share of the expected value (0.5 = half of it)")


class SignificanceConfig(StrictModel):
    """Practical significance of column-metric anomalies: what counts as a change people care about.

    A column anomaly alerts only when the change is at least `min_absolute` AND `min_relative` away from
    the expected value, the profiled window has `min_rows` rows, a null-ratio change touches at least
    `min_affected_rows` rows, and (for distinct counts) the column has
    `min_cardinality` distinct values; otherwise it is a statistical curiosity shown in the report.
    """

    null_ratio: EffectSize = EffectSize(min_absolute=0.05, min_relative=0.5)
    distinct_count: EffectSize = EffectSize(min_absolute=3, min_relative=0.5)
    min_rows: int = Field(
        default=20, ge=0, description="profiled rows below which columns are not alerted on"
    )
    min_affected_rows: int = Field(
        default=5, ge=0, description="rows a null-ratio change must touch (change × profiled rows)"
    )
    min_cardinality: int = Field(
        default=4, ge=0, description="distinct values below which a count is not alerted on"
    )
    alert_on: list[ColumnMetricKind] = Field(
        default_factory=lambda: list(_ALERTING_COLUMN_METRICS),
        description="column metric kinds that raise incidents; the others only show in the report",
    )
    distinct_follows_rows: bool = Field(
        default=True,
        description="a distinct count that moved with the row count (distinct values per row as usual)"
        " is volume, not a column change: report-only",
    )


class AnomalyConfig(StrictModel):
    """Anomaly detection over the dataset's history."""

    enabled: bool = True
    sensitivity: float = Field(default=3.5, gt=0)
    direction: Literal["drop", "spike", "both"] = "both"
    training_window: Duration = timedelta(days=28)
    min_training_runs: int = Field(default=7, ge=3, description="no verdict before this many earlier runs")
    seasonality: Literal["none", "day_of_week", "hour_of_day", "auto"] = "auto"
    columns: bool = Field(default=True, description="also judge null ratio and distinct count per column")
    period: Duration = Field(default=timedelta(days=1), description="rows added are counted per this period")
    severity: Severity = Field(default="warn", description="severity of anomaly incidents")
    significance: SignificanceConfig = SignificanceConfig()
    resolve_after_runs: int = Field(
        default=2, ge=1, description="consecutive clean runs before an anomaly incident resolves"
    )
    reopen_within: Duration = Field(
        default=timedelta(days=2),
        description="a problem back within this long after resolving continues its old incident and thread",
    )
    exclude_incident_runs: bool = Field(
        default=True,
        description="leave runs inside a metric's own incidents out of its training data",
    )
    max_excluded_share: float = Field(
        default=0.5, ge=0, le=1, description="at most this share of the training runs is left out"
    )

    @field_validator("period", "training_window")
    @classmethod
    def _positive_span(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError("must be longer than zero, e.g. 1d")
        return value


class ReconcileConfig(StrictModel):
    """Did every event arrive? Compare this dataset with another dataset or stream over the same window.

    The window is the last complete `period` before the run (e.g. yesterday for `1d`), aligned to
    midnight in `timezone`. Rows are counted on both sides (messages produced, for a stream); `sum` or
    `distinct` compares a key column too (datasets only). A difference beyond `tolerance` is a finding.
    """

    against: str = Field(description="the other side: a dataset or stream named <source>.<name>")
    period: Duration = Field(default=timedelta(days=1), description="window length; 1d = yesterday")
    timezone: str = "UTC"
    column: str | None = Field(
        default=None,
        description="this dataset's timestamp column bounding the window (default timestamp_column)",
    )
    against_column: str | None = Field(
        default=None, description="the other dataset's timestamp column (default its timestamp_column)"
    )
    partition: str | None = Field(
        default=None,
        description="lake datasets: a hive partition column holding the window's date; counted from file footers",
    )
    sum: str | None = Field(default=None, description="also compare the sum of this column (both datasets)")
    distinct: str | None = Field(default=None, description="also compare distinct counts of this column")
    tolerance: str = Field(
        default="0", description="allowed difference: a row count (10) or a share of the larger side (0.5%)"
    )
    severity: Severity | None = Field(default=None, description="default: the dataset's severity")

    @field_validator("period")
    @classmethod
    def _divides_a_day(cls, value: timedelta) -> timedelta:
        seconds = value.total_seconds()
        if seconds <= 0 or seconds > 86400 or 86400 % seconds:
            raise ValueError("must divide a day, e.g. 1d, 6h, 1h or 15m")
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_reconcile_timezone(cls, value: str) -> str:
        return ExpectedBy._valid_timezone(value)

    @field_validator("tolerance", mode="before")
    @classmethod
    def _valid_tolerance(cls, value: object) -> object:
        text = str(value).strip()
        number = text[:-1] if text.endswith("%") else text
        try:
            if float(number) < 0:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"{value!r} is not a tolerance: write a row count (10) or a share (0.5%)"
            ) from None
        return text

    @model_validator(mode="after")
    def _one_measure(self) -> ReconcileConfig:
        if self.sum and self.distinct:
            raise ValueError("compare either sum or distinct, not both (add a second reconcile entry)")
        if self.partition and self.period != timedelta(days=1):
            raise ValueError("partition: counts one day's partition; use period: 1d (or column: instead)")
        return self


class DatasetConfig(StrictModel):
    """One monitored table, lake dataset or stream, named `<source>.<dataset>` everywhere."""

    name: str
    table: str | None = None
    path: str | None = None
    format: LakeFormat | None = None
    hive_partitioning: bool | None = None
    partition_column: str | None = Field(
        default=None,
        description="lake datasets: a hive partition holding a date (event_date=2026-12-02); freshness "
        "from the newest partition, a missing one named in the finding",
    )
    partition_window: Duration | None = Field(
        default=None,
        description="lake datasets: only partitions this recent are read (needs partition_column)",
    )
    timestamp_column: str | None = None
    loaded_at_query: str | None = None
    primary_key: list[str] = Field(default_factory=list)
    required_columns: list[str] = Field(default_factory=list)
    owners: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    tier: str = "daily"
    severity: Severity = "error"
    row_count: Literal["exact", "estimate"] = "exact"
    description: str = ""
    sla: FreshnessSla | None = None
    topic: str | None = Field(
        default=None,
        description="streams: the Kafka topic, Kinesis stream or RabbitMQ queue (default: the short name)",
    )
    consumer_group: str | None = Field(
        default=None,
        description="streams: the Kafka consumer group, or the Kinesis consumer application (its lease table)",
    )
    reconcile: list[ReconcileConfig] = Field(default_factory=list)
    profile: ProfileConfig = ProfileConfig()
    checks: GeneratedChecks = GeneratedChecks()
    anomaly: AnomalyConfig = AnomalyConfig()
    on_empty: Literal["warn", "error", "ignore"] = Field(
        default="warn",
        description="an empty table or profile window is a `not_empty` check at this level "
        "(error: the dataset's severity)",
    )
    suppress: list[str] = Field(
        default_factory=list,
        description="findings never to raise incidents for, as "
        "globs over kind:subject, e.g. 'anomaly:column.referrer.*' or 'check:*'",
    )

    @field_validator("name")
    @classmethod
    def _qualified(cls, value: str) -> str:
        if not _DATASET_NAME.match(value):
            raise ValueError(f"{value!r} is not named <source>.<dataset>, e.g. warehouse.orders")
        return value

    @property
    def source(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def short_name(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def topic_name(self) -> str:
        """The stream's topic, stream or queue name: `topic:` or the dataset's short name."""
        return self.topic or self.short_name

    @property
    def schema_and_table(self) -> tuple[str | None, str]:
        """`main.orders` → ('main', 'orders'); `orders` → (None, 'orders'); the table defaults to the short name."""
        ref = self.table or self.short_name
        if "." in ref:
            schema, table = ref.split(".", 1)
            return schema, table
        return None, ref


class TierConfig(StrictModel):
    """A group of datasets run on one schedule and the work done for them (one Prefect deployment each)."""

    schedule: str | None = Field(default=None, description="cron for the Prefect deployment")
    timezone: str = "UTC"
    profile: bool = True
    checks: bool = True
    report: bool = False
    email: bool = Field(
        default=False,
        description="require emailing the report (it is emailed anyway when an SMTP host is set)",
    )
    datasets: list[str] | None = Field(
        default=None,
        description="glob patterns this tier covers besides datasets whose `tier:` names it; ['*'] = all",
    )
    shards: int = Field(
        default=1, ge=1, le=64, description="split the datasets over this many deployments/workers"
    )
    work_pool: str | None = Field(
        default=None, description="work pool for this tier's deployments (default: project's)"
    )

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, value: str | None) -> str | None:
        from croniter import croniter

        if value is not None and not croniter.is_valid(value):
            raise ValueError(
                f"{value!r} is not a valid cron expression (five fields: minute hour day month weekday)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_tier_timezone(cls, value: str) -> str:
        return ExpectedBy._valid_timezone(value)


class HistoryConfig(StrictModel):
    url: str = "sqlite:///.datahealth/history.db"
    retention_days: int = Field(default=180, ge=1)


class PrometheusConfig(StrictModel):
    """Where each run's metrics go: a Pushgateway, a node_exporter textfile, or both (docs/metrics.md).

    An empty value (what `${DATAHEALTH_PUSHGATEWAY_URL:-}` gives when the variable is unset) means
    "not configured", so one project file serves laptops without a Pushgateway and servers with one.
    """

    pushgateway_url: str | None = Field(
        default=None, description="e.g. http://127.0.0.1:9091; empty: no push"
    )
    job: str = Field(
        default="datahealth",
        pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$",
        description="the Pushgateway group's job label",
    )
    textfile: str | None = Field(
        default="reports/datahealth.prom",
        description="file for node_exporter's textfile collector; empty: none",
    )
    column_metrics: bool = Field(
        default=False, description="opt in to per-column null ratios (one series per column)"
    )
    push_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    stale_after: Duration | None = Field(
        default=None,
        description="the monitor counts as stale this long after its last successful run; "
        "default: twice the longest gap of the most frequent tier's schedule",
    )

    @field_validator("pushgateway_url", "textfile", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("pushgateway_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL; write e.g. http://127.0.0.1:9091")
        return value

    @field_validator("textfile")
    @classmethod
    def _prom_suffix(cls, value: str | None) -> str | None:
        if value is not None and not value.endswith(".prom"):
            raise ValueError(
                f"{value!r} must end in .prom (node_exporter's textfile collector reads only *.prom)"
            )
        return value


class SlackConfig(StrictModel):
    """Slack alerts. A bot token gives threads and in-place updates; a webhook only posts; neither → preview."""

    token_env: str | None = Field(default=None, description="env var holding the bot token")
    webhook_url_env: str | None = Field(default=None, description="env var holding an incoming-webhook URL")
    webhooks: dict[str, str] = Field(
        default_factory=dict, description="channel → env var of that channel's incoming webhook"
    )
    base_url: str | None = Field(
        default=None, description="Slack API base URL (tests point it at a local server)"
    )
    default_channel: str = "#data-alerts"
    digest_threshold: int = Field(default=5, ge=1)
    suppress_for: Duration = timedelta(0)
    preview_file: str = "reports/slack-preview.json"
    mention_owners: bool = True
    owner_mentions: dict[str, str] = Field(
        default_factory=dict, description="owner → Slack mention, e.g. crm-team: '<!subteam^S0123>'"
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    retry_budget: Duration = Field(
        default=timedelta(seconds=30), description="total time a run may spend retrying Slack before queueing"
    )


class EmailConfig(StrictModel):
    """The emailed report: SMTP server, sender and default recipients (routing adds more)."""

    smtp_host: str | None = Field(default=None, description="empty: no email is sent")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = Field(default=None, description="env var holding the SMTP password")
    ca_file: str | None = Field(
        default=None, description="CA bundle that signs the SMTP server's certificate"
    )
    sender: str = "datahealth@localhost"
    recipients: list[str] = Field(default_factory=list)
    timeout_seconds: float = Field(default=30.0, gt=0)
    attach_report: bool = Field(default=True, description="attach the full HTML report to the email")
    attach_limit_bytes: int = Field(
        default=2_000_000,
        ge=0,
        description="attach the report only up to this size; a larger one is linked (publish.report.base_url)",
    )


class ReportConfig(StrictModel):
    """The HTML report: where it is written, its public URL (for links) and how much history it shows."""

    directory: str = "reports"
    base_url: str | None = Field(default=None, description="URL under which the report directory is served")
    title: str = "Data health"
    history_days: int = Field(default=30, ge=1, le=366)
    max_points: int = Field(
        default=120, ge=10, le=2000, description="history points per chart (runs are bucketed)"
    )
    keep: int = Field(
        default=30, ge=0, description="timestamped reports kept in the directory, newest first (0: all)"
    )


class PublishConfig(StrictModel):
    prometheus: PrometheusConfig = PrometheusConfig()
    slack: SlackConfig = SlackConfig()
    email: EmailConfig = EmailConfig()
    report: ReportConfig = ReportConfig()
    prefect_ui_url: str | None = None


class RouteMatch(StrictModel):
    owners: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    datasets: list[str] = Field(default_factory=list, description="glob patterns of dataset names")
    min_severity: Severity | None = None


class Route(StrictModel):
    """Who hears about what: a match on owners/tags/source/severity and where to send it."""

    name: str = ""
    match: RouteMatch = RouteMatch()
    slack_channel: str | None = None
    email: list[str] = Field(default_factory=list)
    continue_matching: bool = False


class ProjectSettings(StrictModel):
    """Project-wide settings, including how the Prefect flow runs (docs/scaling.md)."""

    name: str = "datahealth"
    default_tier: str = Field(default="daily", description="the tier of every dataset that sets no tier:")
    fail_run_on_monitor_error: bool = Field(
        default=False,
        description="fail the flow run when the monitor itself erred (internal error, publisher down)",
    )
    work_pool: str = Field(default="datahealth", description="Prefect work pool the deployments run on")
    task_runner: Literal["threads", "dask"] = "threads"
    dask_address: str | None = Field(
        default=None, description="scheduler of an existing Dask cluster (tcp://host:8786)"
    )
    max_workers: int = Field(default=8, ge=1, le=256, description="threads per flow run (thread runner)")
    task_retries: int = Field(default=2, ge=0, le=10, description="retries when a source cannot be reached")
    task_retry_delay: Duration = Field(
        default=timedelta(seconds=5), description="first retry delay; doubles per retry"
    )
    task_timeout: Duration = Field(default=timedelta(minutes=15), description="per dataset task")
    source_concurrency_limits: bool = Field(
        default=True,
        description="Prefect tag limits `source:<name>` = max_concurrency, shared by all workers",
    )


class ProjectConfig(StrictModel):
    """Everything in `sla_config/`, merged from all its YAML files."""

    project: ProjectSettings = ProjectSettings()
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    datasets: dict[str, DatasetConfig] = Field(default_factory=dict)
    tiers: dict[str, TierConfig] = Field(default_factory=lambda: {"daily": TierConfig()})
    history: HistoryConfig = HistoryConfig()
    publish: PublishConfig = PublishConfig()
    routing: list[Route] = Field(default_factory=list)


class Project(BaseModel):
    """A loaded project: its validated config plus where it lives on disk."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    root: Path
    config: ProjectConfig
    warnings: tuple[str, ...] = ()  # valid but worth changing (inline credentials); `validate` lists them

    @property
    def datasets(self) -> list[DatasetConfig]:
        return list(self.config.datasets.values())

    def dataset(self, name: str) -> DatasetConfig:
        try:
            return self.config.datasets[name]
        except KeyError:
            known = ", ".join(sorted(self.config.datasets)) or "none"
            raise KeyError(f"unknown dataset {name!r}; configured datasets: {known}") from None

    def resolve(self, relative: str) -> Path:
        """Paths in config are relative to the project root, so a project works wherever it is cloned."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.root / path

    def checks_file(self, dataset: DatasetConfig) -> Path:
        return self.root / "checks" / dataset.source / f"{dataset.short_name}.yml"
