/**
 * Every environment variable Vigil reads, with its default and meaning. This table is the single
 * source for both the config parser and docs/configuration.md (`npm run docs:config`), so a
 * setting cannot exist without being documented.
 */
export interface EnvVarSpec {
  /** Default as the user would write it; undefined means "unset unless given". */
  readonly default?: string;
  readonly doc: string;
  /** Section heading in the generated documentation. */
  readonly group: string;
  /** Never echo the value (in errors or `vigil config check`). */
  readonly secret?: boolean;
}

export const ENV_VARS = {
  NODE_ENV: {
    group: 'General',
    default: 'development',
    doc: '`development`, `test` or `production`. Production requires explicit secrets, refuses pending migrations unless `serve --migrate`, hides API docs unless `API_DOCS=true` and never includes stack traces in errors.',
  },
  INSTANCE_ID: {
    group: 'General',
    doc: 'Name of this process in logs, job runs and cluster membership. Defaults to `<hostname>-<pid>`.',
  },
  DATA_DIR: {
    group: 'General',
    default: './data',
    doc: 'Directory for the embedded SQLite database, generated development secrets and other local state. Created if missing.',
  },
  HOST: { group: 'HTTP', default: '0.0.0.0', doc: 'Interface the HTTP server listens on.' },
  PORT: { group: 'HTTP', default: '8080', doc: 'HTTP port (1–65535; 0 picks a free port, logged at start).' },
  TRUST_PROXY: {
    group: 'HTTP',
    default: 'false',
    doc: 'Trust `X-Forwarded-*` headers: `false`, `true`, a hop count, or a comma-separated list of proxy addresses/CIDRs. Only enable behind a proxy you control.',
  },
  TLS_CERT: {
    group: 'HTTP',
    doc: 'Serve HTTPS directly: PEM certificate (chain) file. Needs `TLS_KEY`. TLS 1.2 or later with forward-secret AEAD suites; `kill -HUP` reloads the files after a renewal.',
  },
  TLS_KEY: {
    group: 'HTTP',
    doc: 'PEM private key file of `TLS_CERT`.',
    secret: true,
  },
  REQUIRE_HTTPS: {
    group: 'HTTP',
    doc: 'Refuse plain HTTP: browsers are redirected to https:// (301), API calls get 403 `HTTPS_REQUIRED`; health probes pass. Default `true` in production. Behind a TLS-terminating proxy, name it in `TRUST_PROXY` so its `X-Forwarded-Proto` is believed.',
  },
  MAX_URL_BYTES: {
    group: 'HTTP',
    default: '8192',
    doc: 'Longest URL (path and query) accepted; longer gets 414.',
  },
  MAX_HEADER_BYTES: {
    group: 'HTTP',
    default: '16384',
    doc: 'Largest request line plus headers accepted; larger gets 431.',
  },
  JSON_MAX_DEPTH: {
    group: 'HTTP',
    default: '32',
    doc: 'Deepest nesting of objects and arrays accepted in a JSON body; deeper gets 400 before parsing.',
  },
  HEADERS_TIMEOUT_MS: {
    group: 'HTTP',
    default: '10000',
    doc: 'Time a client has to send its request headers (against slow-header attacks); then 408.',
  },
  KEEP_ALIVE_TIMEOUT_MS: {
    group: 'HTTP',
    default: '72000',
    doc: 'How long an idle keep-alive connection stays open; keep it above your load balancer idle timeout.',
  },
  SHED_MAX_IN_FLIGHT: {
    group: 'HTTP',
    default: '10000',
    doc: 'Requests in progress beyond which new ones get 503 + Retry-After (health probes excepted); 0: off.',
  },
  SHED_MAX_EVENT_LOOP_DELAY_MS: {
    group: 'HTTP',
    default: '1000',
    doc: 'Event-loop delay (p99 over the last second) beyond which new requests are shed with 503; 0: off.',
  },
  SHED_MAX_HEAP_PERCENT: {
    group: 'HTTP',
    default: '90',
    doc: "Heap in use, as a percentage of V8's heap limit, beyond which new requests are shed with 503; 0: off.",
  },
  BODY_LIMIT: {
    group: 'HTTP',
    default: '1048576',
    doc: 'Default maximum request body in bytes; larger bodies get `413 PAYLOAD_TOO_LARGE`. Routes may set their own.',
  },
  REQUEST_TIMEOUT_MS: {
    group: 'HTTP',
    default: '30000',
    doc: 'Time a client has to send a whole request before the connection is closed (slow-client protection).',
  },
  SHUTDOWN_TIMEOUT_MS: {
    group: 'HTTP',
    default: '10000',
    doc: 'On SIGTERM/SIGINT, how long in-flight requests and running jobs get to finish before remaining connections are closed.',
  },
  CORS_ORIGINS: {
    group: 'HTTP',
    default: '',
    doc: 'Comma-separated allow-list of browser origins (`https://ops.example.com`). Empty: no cross-origin access. `*` is refused.',
  },
  API_DOCS: {
    group: 'HTTP',
    doc: 'Serve the OpenAPI document at `/openapi.json` and the interactive UI at `/docs`. Default: on, except in production.',
  },
  DATABASE_URL: {
    group: 'Database',
    doc: 'Where data lives. `sqlite:<path>` (default `sqlite:<DATA_DIR>/vigil.db`) or `postgres://user:pass@host:5432/db` (`postgresql://` also accepted).',
    secret: true,
  },
  DATABASE_POOL_MAX: {
    group: 'Database',
    default: '10',
    doc: 'PostgreSQL: maximum pooled connections per process.',
  },
  DATABASE_POOL_IDLE_MS: {
    group: 'Database',
    default: '30000',
    doc: 'PostgreSQL: close pooled connections idle for this long.',
  },
  DATABASE_CONNECT_TIMEOUT_MS: {
    group: 'Database',
    default: '5000',
    doc: 'PostgreSQL: give up opening a connection after this long (the request then fails with 503).',
  },
  DATABASE_STATEMENT_TIMEOUT_MS: {
    group: 'Database',
    default: '30000',
    doc: 'PostgreSQL: server-side `statement_timeout` for every query; 0 disables.',
  },
  SQLITE_SYNCHRONOUS: {
    group: 'Database',
    default: 'FULL',
    doc: 'SQLite `synchronous` pragma: `FULL` (acknowledged writes survive power loss) or `NORMAL` (survive a process crash only).',
  },
  SQLITE_BUSY_TIMEOUT_MS: {
    group: 'Database',
    default: '5000',
    doc: 'SQLite: how long a writer waits for another process holding the lock.',
  },
  REDIS_URL: {
    group: 'Dependencies',
    doc: '`redis://` or `rediss://` URL. When set, Redis holds rate-limit counters, fan-out and job locks so several instances cooperate; unset, in-process implementations are used.',
    secret: true,
  },
  ENABLE_RATE_LIMIT: {
    group: 'Rate limits',
    default: 'true',
    doc: 'Rate limits and quotas on. Production refuses `false` unless `RATE_LIMIT_OFF_IN_PRODUCTION=true` says it is meant (limits enforced elsewhere, e.g. a gateway).',
  },
  RATE_LIMIT_OFF_IN_PRODUCTION: {
    group: 'Rate limits',
    default: 'false',
    doc: 'The explicit override that lets production run with `ENABLE_RATE_LIMIT=false`.',
  },
  RATE_LIMIT_DEFAULT: {
    group: 'Rate limits',
    default: '100/minute',
    doc: 'Requests per user, API key or device (per IP when unauthenticated) to routes of the default class. Syntax: `<count>/<second|minute|hour|day>` (also `s`, `m`, `h`, `d`, or `<count>/<n> <unit>` such as `10/5 minutes`).',
  },
  RATE_LIMIT_AUTH: {
    group: 'Rate limits',
    default: '5/minute',
    doc: 'Requests per client IP to the sign-in routes (login, refresh, bootstrap, invitation acceptance, MFA and password changes).',
  },
  RATE_LIMIT_INGEST: {
    group: 'Rate limits',
    default: '200/minute',
    doc: 'Ingest requests (`/api/v1/ingest`, InfluxDB writes) per device, API key or user.',
  },
  RATE_LIMIT_ANALYTICS: {
    group: 'Rate limits',
    default: '20/minute',
    doc: 'Heavy reads (aggregates, CSV exports, bulk latest values) per user or API key.',
  },
  INGEST_TENANT_READINGS_PER_S: {
    group: 'Rate limits',
    default: '20000',
    doc: "Readings per second one tenant may ingest, over HTTP and MQTT together, averaged over 10 s (so bursts up to 10× pass). A platform admin can raise a tenant's quota (`PATCH /api/v1/admin/tenants/{id}/quotas`).",
  },
  WS_MAX_CONNECTIONS_PER_USER: {
    group: 'Rate limits',
    default: '10',
    doc: 'Live-stream (WebSocket) connections one user or API key may hold open at once, across every instance when `REDIS_URL` is set (else per instance).',
  },
  STREAM_HEARTBEAT_S: {
    group: 'Live stream',
    default: '30',
    doc: 'The live stream pings every connection this often; one that has not answered the previous ping is dropped (its socket terminated: the client sees `1006`). Ended sessions and revoked API keys are checked as often (closed with `4401`).',
  },
  STREAM_AUTH_TIMEOUT_S: {
    group: 'Live stream',
    default: '10',
    doc: 'A new live-stream connection must send its `auth` message within this many seconds (else closed `4401`).',
  },
  STREAM_IDLE_TIMEOUT_S: {
    group: 'Live stream',
    default: '300',
    doc: 'A live-stream connection without any subscription for this long is closed (`4000`).',
  },
  STREAM_QUEUE_MAX: {
    group: 'Live stream',
    default: '1000',
    doc: 'Alarm and incident messages a connection may have waiting (the client reads too slowly) before it is closed with `4008`; it resumes from its last event id.',
  },
  STREAM_MAX_RATE_PER_S: {
    group: 'Live stream',
    default: '10',
    doc: 'The highest rate (messages per second) a readings subscription may ask for; readings in between are conflated (the newest per sensor wins).',
  },
  STREAM_MAX_CLIENT_MESSAGES_PER_S: {
    group: 'Live stream',
    default: '20',
    doc: 'Messages (auth, subscribe, unsubscribe, ping) one live-stream client may send a second, with bursts of twice that; a client sending faster is closed with `4429`.',
  },
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: {
    group: 'Rate limits',
    default: '200',
    doc: 'Subscriptions (sensors, alarms…) one live-stream connection may hold.',
  },
  GUARD_ENABLED: {
    group: 'Threat guard',
    default: 'true',
    doc: "Score every request for SQL injection, XSS, path traversal, command injection and scanner signatures (with the client IP's recent behaviour); record security events and block attackers.",
  },
  GUARD_FLAG_THRESHOLD: {
    group: 'Threat guard',
    default: '0.8',
    doc: 'Score (0–1) from which a request is recorded as a security event.',
  },
  GUARD_BLOCK_THRESHOLD: {
    group: 'Threat guard',
    default: '0.9',
    doc: 'Score from which a request is refused (403 `REQUEST_BLOCKED`) and its IP blocked for 1 min, then 10 min, 1 h and 24 h on repeat offences within a day.',
  },
  GUARD_ALLOW: {
    group: 'Threat guard',
    doc: 'Comma-separated addresses or CIDR ranges the guard never scores or blocks (monitoring, office networks). Takes precedence over every block.',
  },
  GUARD_DENY: {
    group: 'Threat guard',
    doc: 'Comma-separated addresses or CIDR ranges always refused with 403 (health probes excepted).',
  },
  GUARD_REPUTATION_URL: {
    group: 'Threat guard',
    doc: 'Optional: an AbuseIPDB-compatible check endpoint (e.g. `https://api.abuseipdb.com/api/v2/check`). Each client IP is looked up once per `GUARD_REPUTATION_TTL_S`, in the background; its abuse confidence raises the risk of its suspicious requests. Off when unset.',
  },
  GUARD_REPUTATION_KEY: {
    group: 'Threat guard',
    doc: 'API key for `GUARD_REPUTATION_URL` (sent as the `Key` header).',
    secret: true,
  },
  GUARD_REPUTATION_TTL_S: {
    group: 'Threat guard',
    default: '86400',
    doc: 'How long a reputation answer is kept.',
  },
  GUARD_GEOIP_DB: {
    group: 'Threat guard',
    doc: 'Optional: a MaxMind-format country database (`GeoLite2-Country.mmdb` or a City database) for `GUARD_COUNTRY_RISK`. Off when unset.',
  },
  GUARD_COUNTRY_RISK: {
    group: 'Threat guard',
    doc: 'With `GUARD_GEOIP_DB`: comma-separated `ISO=risk` pairs (risk in (0, 1], e.g. `XX=0.6,YY=1`); a client in a listed country carries that IP risk, which raises the score of its suspicious requests (never blocks clean ones).',
  },
  MQTT_URL: {
    group: 'Dependencies',
    doc: '`mqtt://`, `mqtts://`, `ws://` or `wss://` URL of an external MQTT broker. Unset: the embedded broker is used.',
    secret: true,
  },
  MQTT_ENABLED: {
    group: 'MQTT',
    default: 'true',
    doc: 'Run the MQTT gateway: the embedded broker when `MQTT_URL` is unset.',
  },
  MQTT_HOST: {
    group: 'MQTT',
    doc: 'Interface the embedded broker listens on. Defaults to `HOST`.',
  },
  MQTT_TLS_PORT: {
    group: 'MQTT',
    doc: 'Also listen for MQTT over TLS on this port (8883 is usual). Needs `MQTT_TLS_CERT` and `MQTT_TLS_KEY`.',
  },
  MQTT_TLS_CERT: {
    group: 'MQTT',
    doc: "PEM certificate (chain) file of the embedded broker's TLS listener.",
  },
  MQTT_TLS_KEY: {
    group: 'MQTT',
    doc: "PEM private key file of the embedded broker's TLS listener.",
    secret: true,
  },
  MQTT_TLS_CA: {
    group: 'MQTT',
    doc: 'PEM CA file for client certificates on the TLS listener (mTLS): a device may then log in with a certificate issued by this CA whose fingerprint is registered as one of its credentials, instead of a token.',
  },
  MQTT_WS_PORT: {
    group: 'MQTT',
    doc: 'Also accept MQTT over WebSocket on this port (path `/mqtt`), for browsers and gateways behind HTTP proxies.',
  },
  MQTT_SHARE_GROUP: {
    group: 'MQTT',
    default: 'vigil',
    doc: 'With `MQTT_URL`: the shared-subscription group (`$share/<group>/vigil/+/+/#`). Instances in one group split the messages, each processed once.',
  },
  MQTT_CLIENT_ID: {
    group: 'MQTT',
    doc: "With `MQTT_URL`: this instance's client id, which names its persistent session (messages published while it was away are delivered when it returns). Defaults to `vigil-<INSTANCE_ID>`; keep it stable across restarts.",
  },
  MQTT_SUBSCRIBERS: {
    group: 'MQTT',
    default: '64',
    doc: 'With `MQTT_URL`: subscriber connections per instance in the share group (client ids `<MQTT_CLIENT_ID>-<n>`). Each handles one message at a time until it is committed; more connections, more messages in flight.',
  },
  MQTT_MAX_CONNECTIONS_PER_TENANT: {
    group: 'MQTT',
    default: '10000',
    doc: 'Embedded broker: device connections one tenant may hold at once; a CONNECT beyond it is refused with return code 3 (server unavailable) and counted.',
  },
  MQTT_USERNAME: {
    group: 'MQTT',
    doc: 'With `MQTT_URL`: the user name Vigil logs in to the external broker with (or put it in the URL).',
  },
  MQTT_PASSWORD: {
    group: 'MQTT',
    doc: 'With `MQTT_URL`: the password for `MQTT_USERNAME` (or put it in the URL).',
    secret: true,
  },
  MQTT_BROKER_CA: {
    group: 'MQTT',
    doc: "With an `mqtts://` or `wss://` `MQTT_URL`: PEM file of the CA(s) that signed the external broker's certificate, when it is not one of the system's trusted CAs. The broker's certificate is always verified.",
  },
  MQTT_BROKER_CERT: {
    group: 'MQTT',
    doc: 'With an `mqtts://` or `wss://` `MQTT_URL`: PEM client certificate Vigil presents to the external broker (mTLS). Needs `MQTT_BROKER_KEY`.',
  },
  MQTT_BROKER_KEY: {
    group: 'MQTT',
    doc: 'PEM private key of `MQTT_BROKER_CERT`.',
    secret: true,
  },
  MQTT_SESSION_EXPIRY_S: {
    group: 'MQTT',
    default: '604800',
    doc: "With `MQTT_URL`: how long the broker keeps this instance's session (and queues its messages) while it is away, in seconds.",
  },
  MQTT_PORT: {
    group: 'MQTT',
    default: '1884',
    doc: 'Plain-TCP port of the embedded broker (1884, so it never clashes with a system broker on 1883; 0 picks a free port).',
  },
  READINESS_TIMEOUT_MS: {
    group: 'Dependencies',
    default: '2000',
    doc: '`/readyz`: how long each dependency check may take before it counts as failed.',
  },
  METRICS_TOKEN: {
    group: 'Metrics',
    secret: true,
    doc: 'Serve Prometheus metrics at `/metrics` on the main HTTP port to scrapers sending `Authorization: Bearer <token>` (compared in constant time; anything else gets 401). 24–512 visible ASCII characters; `vigil secret generate` makes one. In production the port also requires HTTPS unless `REQUIRE_HTTPS=false`.',
  },
  METRICS_ADDRESS: {
    group: 'Metrics',
    doc: 'Also serve `/metrics` on a separate plain-HTTP listener at `host:port` (`:9464` for all interfaces), without a token: bind it to a private network only. Without `METRICS_TOKEN` or `METRICS_ADDRESS`, `/metrics` is open on the main port in development and test, and not served at all in production.',
  },
  LOG_LEVEL: {
    group: 'Logging',
    default: 'info',
    doc: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.',
  },
  LOG_FILE: {
    group: 'Logging',
    doc: 'Also write JSON logs to this file, rotated by size and time. Unset: stdout only.',
  },
  LOG_FILE_SIZE: {
    group: 'Logging',
    default: '10m',
    doc: 'Rotate the log file when it reaches this size (`k`, `m`, `g` suffixes).',
  },
  LOG_FILE_FREQUENCY: {
    group: 'Logging',
    default: 'daily',
    doc: 'Also rotate on a schedule: `daily`, `hourly`, or a number of milliseconds.',
  },
  LOG_FILE_KEEP: { group: 'Logging', default: '14', doc: 'Number of rotated log files to keep.' },
  SECRET_KEY: {
    group: 'Secrets',
    doc: 'Signing key for tokens, at least 32 bytes of key material (make one with `vigil secret generate`). Required in production; generated into `DATA_DIR/secrets.json` (mode 0600) in development.',
    secret: true,
  },
  SECRET_KEY_PREVIOUS: {
    group: 'Secrets',
    doc: 'The signing key being rotated out: still accepted for verification, never used to sign.',
    secret: true,
  },
  ENCRYPTION_KEY: {
    group: 'Secrets',
    doc: 'Key for AES-256-GCM encryption of secrets at rest (webhook secrets, SMTP passwords, provider keys), at least 32 bytes. Required in production; generated in development like `SECRET_KEY`.',
    secret: true,
  },
  ENCRYPTION_KEY_PREVIOUS: {
    group: 'Secrets',
    doc: 'The encryption key being rotated out: still used to decrypt values written with it, never to encrypt.',
    secret: true,
  },
  ACCESS_TOKEN_TTL_S: {
    group: 'Authentication',
    default: '900',
    doc: 'Lifetime of an access token (JWT) in seconds.',
  },
  REFRESH_IDLE_TTL_S: {
    group: 'Authentication',
    default: '604800',
    doc: 'A session ends if its refresh token is not used for this long (seconds; 7 days).',
  },
  REFRESH_ABSOLUTE_TTL_S: {
    group: 'Authentication',
    default: '2592000',
    doc: 'A session ends this long after login however active it is (seconds; 30 days).',
  },
  REFRESH_REUSE_GRACE_MS: {
    group: 'Authentication',
    default: '10000',
    doc: 'How long the refresh token just replaced may still be presented (concurrent browser tabs) before it counts as reuse, which revokes the whole session. At most 60000.',
  },
  JWT_ISSUER: { group: 'Authentication', default: 'vigil', doc: 'The `iss` claim of access tokens.' },
  JWT_AUDIENCE: { group: 'Authentication', default: 'vigil-api', doc: 'The `aud` claim of access tokens.' },
  PUBLIC_URL: {
    group: 'Authentication',
    doc: 'Base URL users reach Vigil at (for bootstrap and invitation links). Default: the listening address.',
  },
  LOGIN_MAX_CONSECUTIVE_FAILURES: {
    group: 'Authentication',
    default: '10',
    doc: 'Consecutive failed logins for one email from one IP before that pair is blocked for an hour.',
  },
  LOGIN_MAX_FAILURES_PER_IP_PER_DAY: {
    group: 'Authentication',
    default: '100',
    doc: 'Failed logins from one IP in a day before the IP is blocked for a day.',
  },
  JOBS_ENABLED: {
    group: 'Jobs',
    default: 'true',
    doc: 'Run the background job scheduler in this process. Several instances may all enable it: a lock makes each scheduled run happen once.',
  },
  JOB_RUNS_RETENTION_DAYS: {
    group: 'Jobs',
    default: '30',
    doc: 'The `job-runs.prune` job deletes recorded job runs older than this.',
  },
  INGEST_MAX_READINGS: {
    group: 'Telemetry',
    default: '10000',
    doc: 'Most readings one ingest request may carry; more is `413 PAYLOAD_TOO_LARGE`.',
  },
  INGEST_MAX_BYTES: {
    group: 'Telemetry',
    default: '5242880',
    doc: 'Largest ingest request body in bytes (after gzip decompression); larger is `413`.',
  },
  INGEST_MAX_BACKFILL_S: {
    group: 'Telemetry',
    default: '2592000',
    doc: 'Oldest accepted reading, in seconds before receipt (30 days); older ones are refused per item with `TIMESTAMP_TOO_OLD`.',
  },
  INGEST_MAX_FUTURE_S: {
    group: 'Telemetry',
    default: '300',
    doc: 'Newest accepted reading, in seconds after receipt (clock skew allowance); later ones are refused with `TIMESTAMP_IN_FUTURE`.',
  },
  INGEST_GROUP_COMMIT_MAX: {
    group: 'Telemetry',
    default: '256',
    doc: 'Most ingest requests committed together in one transaction (group commit).',
  },
  STORAGE_CHUNK_READINGS: {
    group: 'Telemetry',
    default: '2048',
    doc: 'Readings per compressed chunk of one sensor (docs/storage.md).',
  },
  STORAGE_COMPACT_INTERVAL_MS: {
    group: 'Telemetry',
    default: '2000',
    doc: 'How often the compactor checks the reading log. It compacts when the log holds `STORAGE_COMPACT_MIN_READINGS` or its oldest entry is older than `STORAGE_COMPACT_MAX_AGE_MS`.',
  },
  STORAGE_COMPACT_MIN_READINGS: {
    group: 'Telemetry',
    default: '1000000',
    doc: 'Log size (readings) that triggers compaction into chunks. Larger means less rewriting of chunks under heavy load; queries scan the log (cached in memory) until it is compacted.',
  },
  STORAGE_COMPACT_MAX_AGE_MS: {
    group: 'Telemetry',
    default: '300000',
    doc: 'Age of the oldest log entry that triggers compaction even when the log is small.',
  },
  RETENTION_DAYS: {
    group: 'Telemetry',
    default: '365',
    doc: 'Default reading retention per tenant (a tenant setting `retentionDays` overrides it); the daily `telemetry.retention` job deletes older data.',
  },
  DETECTION_ENABLED: {
    group: 'Detection',
    default: 'true',
    doc: 'Score every accepted reading with the streaming detectors (right after its commit, in the process that stored it).',
  },
  DETECTION_CHECKPOINT_S: {
    group: 'Detection',
    default: '30',
    doc: 'How often changed per-sensor detector state is checkpointed to the database (also on shutdown). After a crash, readings stored since the last checkpoint are replayed from storage.',
  },
  DETECTION_SWEEP_S: {
    group: 'Detection',
    default: '10',
    doc: 'How often sensors are checked for silence (the heartbeat detector: no data for k × the expected interval).',
  },
  DETECTION_MAX_QUEUE: {
    group: 'Detection',
    default: '1000000',
    doc: 'Readings waiting to be scored beyond which ingestion waits before acknowledging (backpressure, nothing is dropped).',
  },
  ENABLE_AUTO_RETRAINING: {
    group: 'Detection',
    default: 'true',
    doc: 'Retrain the Isolation Forest models of sensors and assets that enable them on `RETRAINING_SCHEDULE`; a new version is activated only when it is not worse on a held-out window.',
  },
  RETRAINING_SCHEDULE: {
    group: 'Detection',
    default: '0 0 2 * * *',
    doc: 'Cron expression (UTC, with seconds) of the `detection.retrain` job. Default: daily at 02:00.',
  },
  BACKTEST_CONCURRENCY: {
    group: 'Detection',
    default: '1',
    doc: 'Backtests (`POST /api/v1/backtests`) run at once in each process; more wait in its queue. Each scores in slices and yields between them, so ingest and the API keep their share of the event loop.',
  },
  BACKTEST_MAX_PER_TENANT: {
    group: 'Detection',
    default: '3',
    doc: 'Backtests one tenant may have queued or running at once (across instances); one more is refused with 429 `BACKTEST_LIMIT`.',
  },
  BACKTEST_MAX_ROWS: {
    group: 'Detection',
    default: '1000000',
    doc: 'Most readings one backtest scores (at most 2,000,000, what one range read decodes); a window with more scores its newest and says so in the run log. A window whose stored chunks hold more than 2,000,000 readings fails, asking for a shorter one.',
  },
  SELF_MONITOR_INTERVAL_S: {
    group: 'Self-monitoring',
    default: '30',
    doc: 'How often each instance checks itself (dependencies, disk, ingest, event loop, notifications, jobs) and raises or resolves platform alarms in the reserved `platform` tenant (docs/monitoring.md). `0` turns self-monitoring off.',
  },
  SELF_MONITOR_WINDOW_S: {
    group: 'Self-monitoring',
    default: '300',
    doc: 'Window (seconds) over which ingest failures, refused readings and failed notification deliveries are counted. At least `SELF_MONITOR_INTERVAL_S`.',
  },
  SELF_MONITOR_DISK_FREE_PERCENT: {
    group: 'Self-monitoring',
    default: '10',
    doc: 'On SQLite: free space of the filesystem holding `DATA_DIR` (and the database file) below this percentage raises a `major` platform alarm, below half of it `critical`. `0`: off.',
  },
  SELF_MONITOR_INGEST_ERRORS: {
    group: 'Self-monitoring',
    default: '10',
    doc: 'Ingest batches that failed on the server side (5xx: database unreachable, internal errors) within the window that raise a `major` alarm. `0`: off.',
  },
  SELF_MONITOR_REJECT_PERCENT: {
    group: 'Self-monitoring',
    default: '25',
    doc: 'Share of offered readings refused (invalid items, unknown sensors, quotas) within the window that raises a `warning` alarm. `0`: off.',
  },
  SELF_MONITOR_REJECT_MIN_READINGS: {
    group: 'Self-monitoring',
    default: '100',
    doc: 'Readings offered within the window below which the refused share is not judged (a few bad readings are not a spike).',
  },
  SELF_MONITOR_LOOP_LAG_MS: {
    group: 'Self-monitoring',
    default: '500',
    doc: 'Event-loop delay p99 (milliseconds, measured over each check interval) above which a check counts as lagging. `0`: off.',
  },
  SELF_MONITOR_LOOP_LAG_CHECKS: {
    group: 'Self-monitoring',
    default: '3',
    doc: 'Consecutive lagging checks that raise the event-loop alarm (`warning`; `major` at four times the threshold).',
  },
  SELF_MONITOR_NOTIFY_FAILURES: {
    group: 'Self-monitoring',
    default: '5',
    doc: 'Notification deliveries (all tenants) that failed for good within the window or are waiting for a retry after a failed attempt, at or above which a `major` alarm is raised. `0`: off.',
  },
  SELF_MONITOR_JOB_FAILURES: {
    group: 'Self-monitoring',
    default: '3',
    doc: 'A background job whose last this many runs all failed (failed, timed out or abandoned) raises a `major` alarm, resolved by its next successful run. `0`: off.',
  },
  ALARM_RENOTIFY_MINUTES: {
    group: 'Notifications',
    default: '30',
    doc: 'An open alarm nobody has acknowledged is notified again every this many minutes (0: never).',
  },
  ALARM_ESCALATE_MINUTES: {
    group: 'Notifications',
    default: '60',
    doc: 'An open alarm nobody has acknowledged is raised one severity step (warning → minor → major → critical) after this many minutes, and again after each further period (0: never).',
  },
  INCIDENT_GROUP_BY: {
    group: 'Notifications',
    default: 'site',
    doc: 'How new alarms join an open incident automatically: `site` (an incident of the same asset, else one of the same site or zone as the asset), `asset` (same asset only) or `off` (incidents only by hand).',
  },
  INCIDENT_GROUP_WINDOW_MINUTES: {
    group: 'Notifications',
    default: '30',
    doc: 'An alarm joins an open incident opened at most this many minutes (by the readings’ times) before it.',
  },
  SMTP_URL: {
    group: 'Notifications',
    secret: true,
    doc: 'SMTP server for email channels: `smtp://user:password@host:587` (STARTTLS when offered) or `smtps://…:465`. Email channels are refused while it is unset.',
  },
  SMTP_FROM: {
    group: 'Notifications',
    default: 'Vigil <vigil@localhost>',
    doc: 'Sender of notification emails.',
  },
  WEBHOOK_ALLOWED_PRIVATE: {
    group: 'Notifications',
    doc: 'Comma-separated addresses or CIDR ranges that webhook channels may target although they are private, loopback or link-local (refused otherwise, against SSRF). Example: `10.20.0.0/16`.',
  },
  NOTIFY_MAX_ATTEMPTS: {
    group: 'Notifications',
    default: '12',
    doc: 'Delivery attempts per notification before it is marked failed (retries back off exponentially with jitter, from 2 s to 1 h).',
  },
  QUERY_CACHE_TTL_S: {
    group: 'Telemetry',
    default: '60',
    doc: 'Lifetime of cached latest values and aggregates (Redis when `REDIS_URL` is set, in process otherwise). Ingestion invalidates affected entries at once; the TTL only bounds memory.',
  },
} as const satisfies Record<string, EnvVarSpec>;

export type EnvVarName = keyof typeof ENV_VARS;
