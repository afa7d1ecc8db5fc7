"""The one settings object of tocsin.

Every setting comes from a ``TOCSIN_*`` environment variable. ``Settings`` is built once at
an edge (the CLI, a test fixture, a benchmark) and passed down; nothing below the edge reads
the environment. ``docs/configuration.md`` is generated from this class
(``tocsin config docs``), and a test keeps the two in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def default_data_dir() -> Path:
    return platformdirs.user_data_path("tocsin", appauthor=False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOCSIN_", extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None,
        description=(
            "PostgreSQL server to use, e.g. `postgresql://tocsin@db.internal/tocsin`. "
            "Several hosts follow a failover: "
            "`postgresql://tocsin@db1:5432,db2:5432/tocsin?target_session_attrs=read-write`. "
            "When unset, tocsin starts an embedded PostgreSQL inside the data folder."
        ),
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description=(
            "Folder for the embedded database and the generated secret key. "
            "Default: the per-user data directory (`~/.local/share/tocsin` on Linux)."
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key for signing and encryption. When unset, one is generated into "
            "`<data_dir>/secret_key` on first start. Set it explicitly when several "
            "hosts share one database."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address `tocsin serve` listens on.")
    port: int = Field(default=8765, ge=1, le=65535, description="Port `tocsin serve` listens on.")
    public_url: str | None = Field(
        default=None,
        description=(
            "Base URL people reach tocsin at, used in links (login links, emails). "
            "Default: `http://<host>:<port>`, or `https://` when `tls_cert` is set."
        ),
    )
    tls_cert: Path | None = Field(
        default=None,
        description=(
            "PEM certificate (chain) for `tocsin serve` to serve HTTPS itself "
            "(`--tls-cert`); set together with `tls_key`. Unset: plain HTTP, for a "
            "reverse proxy that terminates TLS."
        ),
    )
    tls_key: Path | None = Field(
        default=None,
        description="PEM private key (unencrypted) of `tls_cert` (`--tls-key`).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Lowest level of log lines written."
    )
    log_format: Literal["console", "json"] = Field(
        default="console", description="`console` for people, `json` for log shippers."
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply pending database migrations when `tocsin serve` starts."
    )
    db_pool_size: int = Field(
        default=10, ge=1, le=200, description="Database connections each process keeps open."
    )
    db_max_overflow: int = Field(
        default=10, ge=0, le=200, description="Extra connections allowed under load."
    )
    db_wait_seconds: float = Field(
        default=2.0,
        ge=0.5,
        le=60,
        description=(
            "How long a request waits for a working database connection before it is "
            "answered 503 with Retry-After (senders retry; nothing is acknowledged before "
            "it is committed). Also bounds connecting and `/readyz`."
        ),
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest request body accepted by the API and pages (413 above it).",
    )
    ingest_max_body_bytes: int = Field(
        default=524_288,
        ge=1024,
        description=(
            "Largest alert body accepted on /ingest, /v2/enqueue and /v2/alerts (413 above)."
        ),
    )
    ingest_rate_per_minute: int = Field(
        default=6000,
        ge=0,
        description=(
            "Events each integration may send per minute, counted across every tocsin "
            "process (the bucket is in the database), in bursts of up to ten seconds' worth "
            "(429 with Retry-After above it). 0 turns the limit off."
        ),
    )
    engine_batch_size: int = Field(
        default=200,
        ge=1,
        le=5000,
        description="Due rows an engine module claims per transaction.",
    )
    engine_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description=(
            "Longest the engine sleeps without a NOTIFY or a due time (a fallback for a "
            "lost listen connection)."
        ),
    )
    session_idle_minutes: int = Field(
        default=720, ge=5, description="A browser session ends after this long without use."
    )
    session_max_hours: int = Field(
        default=168, ge=1, description="A browser session ends this long after login, in any case."
    )
    cookie_secure: bool | None = Field(
        default=None,
        description=(
            "Mark session cookies `Secure`. Default: on, except when `public_url` is plain "
            "`http://` on a host other than loopback (browsers treat loopback as secure)."
        ),
    )
    login_max_failures_per_account: int = Field(
        default=5, ge=1, description="Failed logins for one account within the window before 429."
    )
    login_max_failures_per_ip: int = Field(
        default=20,
        ge=1,
        description="Failed logins from one IP address within the window before 429.",
    )
    login_failure_window_seconds: int = Field(
        default=900, ge=10, description="Window over which failed logins are counted."
    )
    login_link_minutes: int = Field(
        default=60, ge=1, description="How long a one-time login link stays valid."
    )
    invitation_hours: int = Field(
        default=72,
        ge=1,
        le=720,
        description="How long the sign-in link in a new person's invitation mail stays valid.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description=(
            "When set, `/metrics` answers only requests bearing "
            "`Authorization: Bearer <this token>` (401 otherwise). Unset: `/metrics` is "
            "open, for a port that only Prometheus reaches."
        ),
    )
    first_admin_email: str = Field(
        default="admin@example.com",
        description="Email of the admin account created on first start when there are no users.",
    )

    smtp_host: str | None = Field(
        default=None,
        description=(
            "SMTP server that sends email. When unset, mail goes to tocsin's local outbox "
            "(the Outbox page), so nothing is lost while you set up mail."
        ),
    )
    smtp_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="SMTP port. Default: 465 with `smtp_security=tls`, else 587.",
    )
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description=(
            "`starttls` (submission on 587, upgraded with STARTTLS), `tls` (implicit TLS, "
            "usually 465) or `none` (plain, for a relay on the same host)."
        ),
    )
    smtp_username: str | None = Field(default=None, description="SMTP login, if required.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_from: str | None = Field(
        default=None,
        description="Sender address of tocsin's mail. Default: `tocsin@<host of public_url>`.",
    )
    smtp_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        le=300,
        description="How long one SMTP delivery may take before its outcome counts as unknown.",
    )
    magic_link_minutes: int = Field(
        default=60,
        ge=5,
        le=7 * 24 * 60,
        description=(
            "Shortest life of an Acknowledge/Resolve link in an email. A link also lives "
            "until the escalation it would stop has come, whichever is later."
        ),
    )
    operations_service: str | None = Field(
        default=None,
        description=(
            "Name (or id) of the service whose escalation policy is paged when every "
            "channel of a paged person has failed. When unset, such failures are only "
            "logged, counted in /metrics and written on the incident's timeline."
        ),
    )
    notify_bundle_threshold: int = Field(
        default=5,
        ge=0,
        le=1000,
        description=(
            "From this many pages for one service to one person within the bundle window, "
            "further pages go out as one digest. 0 turns bundling off."
        ),
    )
    notify_bundle_window_minutes: int = Field(
        default=10, ge=1, le=24 * 60, description="The window pages are counted in for bundling."
    )
    notify_digest_seconds: int = Field(
        default=60,
        ge=0,
        le=3600,
        description="How long a digest collects pages before it goes out.",
    )
    notify_concurrency: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Provider calls one process makes at the same time.",
    )

    # Slack (docs/channels/slack.md): the app's credentials from api.slack.com/apps.
    slack_client_id: str | None = Field(
        default=None, description="The Slack app's Client ID (OAuth install)."
    )
    slack_client_secret: SecretStr | None = Field(
        default=None, description="The Slack app's Client Secret (OAuth install)."
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        description="The Slack app's Signing Secret: every request from Slack is checked with it.",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        description="Slack's Web API. Point it elsewhere for an egress proxy or a test fake.",
    )
    slack_token_rotation: bool = Field(
        default=False,
        description="Turn token rotation on in `tocsin slack manifest`: bot tokens then last "
        "12 hours and tocsin renews them. Slack cannot turn it off again for the app.",
    )

    # Microsoft Teams bot (docs/channels/teams.md): an Azure Bot registration. Posting to
    # Teams channels through Workflows webhooks needs none of this.
    teams_app_id: str | None = Field(
        default=None, description="The Azure Bot's Microsoft App ID (personal pages in Teams)."
    )
    teams_app_password: SecretStr | None = Field(
        default=None, description="A client secret of the Azure Bot's app registration."
    )
    teams_tenant_id: str | None = Field(
        default=None, description="The Microsoft Entra tenant (directory) id the bot is in."
    )
    teams_token_url: str | None = Field(
        default=None,
        description=(
            "Where the bot gets its Bot Connector token (OAuth client credentials). Unset: "
            "Microsoft Entra for TOCSIN_TEAMS_TENANT_ID, through MSAL. For an egress proxy "
            "or a test fake."
        ),
    )
    teams_keys_url: str | None = Field(
        default=None,
        description=(
            "Where the keys that sign requests to /teams/messages are published (a JWKS). "
            "Unset: Bot Framework's and Entra's, as the Agents SDK knows them. For a test fake."
        ),
    )

    # Twilio (docs/channels/sms-voice.md): texts and their replies, calls and their keypad.
    twilio_account_sid: str | None = Field(default=None, description="Twilio Account SID.")
    twilio_auth_token: SecretStr | None = Field(
        default=None,
        description="Twilio Auth Token: sends texts, places calls, checks Twilio's webhooks.",
    )
    twilio_messaging_service_sid: str | None = Field(
        default=None,
        description="Messaging Service SID (MG…) texts are sent through (preferred).",
    )
    twilio_from_number: str | None = Field(
        default=None,
        description=(
            "The Twilio number (E.164) calls come from, and texts when no Messaging Service "
            "is set. Voice needs it."
        ),
    )
    twilio_api_url: str = Field(
        default="https://api.twilio.com",
        description="Twilio's REST API. Point it elsewhere for an egress proxy or a test fake.",
    )

    # Vonage (docs/channels/sms-voice.md): a second SMS and voice provider; with Twilio
    # too, texts and calls fail over between them.
    vonage_api_key: str | None = Field(default=None, description="Vonage API key.")
    vonage_api_secret: SecretStr | None = Field(
        default=None, description="Vonage API secret: sends texts."
    )
    vonage_from: str | None = Field(
        default=None,
        description="The Vonage number (E.164) or sender name texts come from.",
    )
    vonage_signature_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Vonage signature secret: checks Vonage's signed webhooks (replies and delivery "
            "receipts). Without it they are refused."
        ),
    )
    vonage_signature_method: Literal["md5", "sha1", "sha256", "sha512"] = Field(
        default="sha256",
        description="The HMAC the Vonage dashboard signs webhooks with.",
    )
    vonage_application_id: str | None = Field(
        default=None,
        description="Vonage Voice application id: with its private key, places calls.",
    )
    vonage_private_key: SecretStr | None = Field(
        default=None, description="The Vonage Voice application's private key (PEM)."
    )
    vonage_api_host: str = Field(
        default="api.nexmo.com",
        description="Vonage's Voice API host. Point it elsewhere for a proxy or a test fake.",
    )
    vonage_rest_host: str = Field(
        default="rest.nexmo.com",
        description="Vonage's SMS API host. Point it elsewhere for an egress proxy or a test fake.",
    )

    # Web push (docs/channels/push.md): the app's own notifications, no vendor account.
    vapid_private_key: SecretStr | None = Field(
        default=None,
        description=(
            "VAPID private key (PEM, or raw base64url) web push is signed with. When unset, "
            "one is generated into `<data_dir>/vapid_private_key.pem` on first start. Set "
            "it when several hosts share one database: browsers subscribe to one key."
        ),
    )
    vapid_subject: str | None = Field(
        default=None,
        description=(
            "Contact push services may use about your pushes (`mailto:` or `https:`). "
            "Default: `mailto:` the mail sender address."
        ),
    )
    allow_private_destinations: bool = Field(
        default=False,
        description=(
            "Let push subscriptions and ntfy servers be on plain http or a "
            "private network (a self-hosted server inside yours). Off: tocsin never posts "
            "into its own network on someone's say-so."
        ),
    )

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str | None) -> str | None:
        if not value:
            return None
        return normalise_database_url(value)

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        # One without the other is a half-made setup: serving plain HTTP then would send
        # routing keys in the clear to a sender that was told to expect HTTPS.
        if (self.tls_cert is None) != (self.tls_key is None):
            raise PydanticCustomError(
                "tls_pair",
                "set both TOCSIN_TLS_CERT and TOCSIN_TLS_KEY (--tls-cert and --tls-key), "
                "or neither",
            )
        return self

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        scheme = "https" if self.tls_cert is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    @property
    def push_subject(self) -> str:
        return self.vapid_subject or f"mailto:{self.mail_from}"

    @property
    def mail_from(self) -> str:
        if self.smtp_from:
            return self.smtp_from
        return f"tocsin@{urlsplit(self.base_url).hostname or 'localhost'}"

    @property
    def session_cookie_secure(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        parts = urlsplit(self.base_url)
        return parts.scheme == "https" or (parts.hostname or "") in LOOPBACK_HOSTS


def normalise_database_url(url: str) -> str:
    """Point SQLAlchemy at psycopg 3, whichever spelling of the scheme was given.

    libpq's failover form lists hosts in the authority (``db1:5432,db2:5433``), which
    SQLAlchemy's URL parser cannot read; it takes them as repeated ``host=`` query
    parameters instead and hands psycopg the same list.
    """
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
            break
    return _hosts_as_query(url)


def _hosts_as_query(url: str) -> str:
    scheme, _, rest = url.partition("://")
    authority, _, tail = rest.partition("/")
    credentials, at, hosts = authority.rpartition("@")
    if "," not in hosts:
        return url
    path, question, query = tail.partition("?")
    listed = "&".join(f"host={host}" for host in hosts.split(",") if host)
    query = f"{listed}&{query}" if question and query else listed
    return f"{scheme}://{credentials}{at}/{path}?{query}"
