/**
 * The Grafana dashboards, as code: `npm run deploy:dashboards` writes them to
 * deploy/grafana/dashboards/*.json (provisioned by Grafana; test/deploy.test.ts checks the files
 * match these definitions and that every metric they query exists in Vigil's /metrics).
 */

type Unit = 'short' | 'reqps' | 's' | 'bytes' | 'percentunit' | 'ops' | 'dateTimeFromNow' | 'none';

interface Query {
  readonly expr: string;
  readonly legend?: string;
}

interface PanelSpec {
  readonly title: string;
  readonly type?: 'timeseries' | 'stat';
  readonly unit?: Unit;
  readonly queries: readonly Query[];
  readonly description?: string;
  /** Grid width (of 24); height is 8 (timeseries) or 4 (stat). */
  readonly w?: number;
  readonly stacked?: boolean;
  /** Stat panels: values at or above turn red. */
  readonly redAbove?: number;
}

interface Row {
  readonly row: string;
  readonly panels: readonly PanelSpec[];
}

const DATASOURCE = { type: 'prometheus', uid: 'prometheus' } as const;
/** Every query is scoped to the instances picked in the dashboard's `instance` variable. */
const I = 'job="vigil", instance=~"$instance"';

function dashboard(uid: string, title: string, description: string, rows: readonly Row[]): object {
  const panels: object[] = [];
  let id = 1;
  let y = 0;
  for (const { row, panels: specs } of rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of specs) {
      const w = p.w ?? 8;
      const h = p.type === 'stat' ? 4 : 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(panel(id++, p, { h, w, x, y }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid,
    title,
    description,
    tags: ['vigil'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timezone: 'browser',
    links: [{ type: 'dashboards', tags: ['vigil'], asDropdown: true, title: 'Vigil dashboards' }],
    templating: {
      list: [
        {
          name: 'instance',
          label: 'Instance',
          type: 'query',
          datasource: DATASOURCE,
          query: { query: 'label_values(vigil_build_info{job="vigil"}, instance)', refId: 'instance' },
          definition: 'label_values(vigil_build_info{job="vigil"}, instance)',
          refresh: 2,
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: { selected: true, text: ['All'], value: ['$__all'] },
        },
      ],
    },
    annotations: { list: [] },
    panels,
  };
}

function panel(id: number, p: PanelSpec, gridPos: object): object {
  const type = p.type ?? 'timeseries';
  const common = {
    id,
    type,
    title: p.title,
    ...(p.description ? { description: p.description } : {}),
    datasource: DATASOURCE,
    gridPos,
    targets: p.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: q.expr,
      legendFormat: q.legend ?? '__auto',
      range: true,
    })),
  };
  if (type === 'stat') {
    return {
      ...common,
      fieldConfig: {
        defaults: {
          unit: p.unit ?? 'short',
          thresholds: {
            mode: 'absolute',
            steps: [
              { color: 'green', value: null },
              ...(p.redAbove !== undefined ? [{ color: 'red', value: p.redAbove }] : []),
            ],
          },
        },
        overrides: [],
      },
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'value',
        graphMode: 'area',
        textMode: 'auto',
        justifyMode: 'auto',
        orientation: 'auto',
      },
    };
  }
  return {
    ...common,
    fieldConfig: {
      defaults: {
        unit: p.unit ?? 'short',
        custom: {
          drawStyle: 'line',
          lineWidth: 1,
          fillOpacity: p.stacked ? 30 : 10,
          showPoints: 'never',
          stacking: { mode: p.stacked ? 'normal' : 'none', group: 'A' },
        },
      },
      overrides: [],
    },
    options: {
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  };
}

const rate = (metric: string, by: string, extra = '', window = '$__rate_interval') =>
  `sum by (${by}) (rate(${metric}{${I}${extra}}[${window}]))`;
const quantile = (q: number, metric: string, by: string, extra = '') =>
  `histogram_quantile(${q}, sum by (${by}, le) (rate(${metric}_bucket{${I}${extra}}[$__rate_interval])))`;
const INGEST_ROUTES = ', route=~"/api/v1/ingest|/write|/api/v2/write"';

export const DASHBOARDS: Readonly<Record<string, object>> = {
  overview: dashboard('vigil-overview', 'Vigil / Overview', 'Is Vigil up, fast and keeping up?', [
    {
      row: 'Health',
      panels: [
        { title: 'Instances up', type: 'stat', w: 4, queries: [{ expr: 'sum(up{job="vigil"})' }] },
        {
          title: 'Readings accepted /s',
          type: 'stat',
          w: 5,
          unit: 'ops',
          queries: [{ expr: `sum(rate(vigil_ingest_readings_accepted_total{${I}}[5m]))` }],
        },
        {
          title: 'Open alarms (critical + major)',
          type: 'stat',
          w: 5,
          redAbove: 1,
          queries: [{ expr: `max(sum by (instance) (vigil_alarms_open{${I}, severity=~"critical|major"}))` }],
        },
        {
          title: 'Event-loop lag p99',
          type: 'stat',
          w: 5,
          unit: 's',
          redAbove: 0.2,
          queries: [{ expr: `max(nodejs_eventloop_lag_p99_seconds{${I}})` }],
        },
        {
          title: 'DATA_DIR free',
          type: 'stat',
          w: 5,
          unit: 'percentunit',
          queries: [{ expr: `min(vigil_data_dir_free_bytes{${I}} / vigil_data_dir_size_bytes{${I}})` }],
        },
      ],
    },
    {
      row: 'HTTP',
      panels: [
        {
          title: 'Requests /s by status',
          unit: 'reqps',
          stacked: true,
          queries: [
            {
              expr: rate('vigil_http_request_duration_seconds_count', 'status_code'),
              legend: '{{status_code}}',
            },
          ],
        },
        {
          title: 'Latency (all routes)',
          unit: 's',
          queries: [
            {
              expr: quantile(0.5, 'vigil_http_request_duration_seconds', 'instance'),
              legend: 'p50 {{instance}}',
            },
            {
              expr: quantile(0.99, 'vigil_http_request_duration_seconds', 'instance'),
              legend: 'p99 {{instance}}',
            },
          ],
        },
        {
          title: 'Slowest routes (p99)',
          unit: 's',
          queries: [
            {
              expr: `topk(5, ${quantile(0.99, 'vigil_http_request_duration_seconds', 'route, method')})`,
              legend: '{{method}} {{route}}',
            },
          ],
        },
      ],
    },
    {
      row: 'Process',
      panels: [
        {
          title: 'CPU',
          unit: 'percentunit',
          queries: [
            { expr: `rate(process_cpu_seconds_total{${I}}[$__rate_interval])`, legend: '{{instance}}' },
          ],
        },
        {
          title: 'Memory',
          unit: 'bytes',
          queries: [
            { expr: `process_resident_memory_bytes{${I}}`, legend: 'RSS {{instance}}' },
            { expr: `nodejs_heap_size_used_bytes{${I}}`, legend: 'heap {{instance}}' },
          ],
        },
        {
          title: 'Event-loop lag',
          unit: 's',
          queries: [
            { expr: `nodejs_eventloop_lag_p99_seconds{${I}}`, legend: 'p99 {{instance}}' },
            { expr: `nodejs_eventloop_lag_mean_seconds{${I}}`, legend: 'mean {{instance}}' },
          ],
        },
      ],
    },
    {
      row: 'Database',
      panels: [
        {
          title: 'Query latency',
          unit: 's',
          queries: [
            {
              expr: quantile(0.5, 'vigil_db_query_duration_seconds', 'instance'),
              legend: 'p50 {{instance}}',
            },
            {
              expr: quantile(0.99, 'vigil_db_query_duration_seconds', 'instance'),
              legend: 'p99 {{instance}}',
            },
          ],
        },
        {
          title: 'Queries /s by outcome',
          unit: 'ops',
          queries: [
            { expr: rate('vigil_db_query_duration_seconds_count', 'outcome'), legend: '{{outcome}}' },
          ],
        },
        {
          title: 'Connection pool (PostgreSQL)',
          queries: [
            { expr: `sum by (state) (vigil_db_pool_connections{${I}})`, legend: '{{state}}' },
            { expr: `sum(vigil_db_pool_waiting_queries{${I}})`, legend: 'waiting' },
            { expr: `sum(vigil_db_pool_max_connections{${I}})`, legend: 'max' },
          ],
        },
      ],
    },
  ]),

  ingest: dashboard('vigil-ingest', 'Vigil / Ingest', 'Readings in: protocols, refusals, latency, storage.', [
    {
      row: 'Readings',
      panels: [
        {
          title: 'Accepted /s by protocol',
          unit: 'ops',
          stacked: true,
          queries: [
            { expr: rate('vigil_ingest_readings_accepted_total', 'protocol'), legend: '{{protocol}}' },
          ],
        },
        {
          title: 'Rejected /s by reason',
          unit: 'ops',
          stacked: true,
          queries: [
            {
              expr: rate('vigil_ingest_readings_rejected_total', 'protocol, reason'),
              legend: '{{protocol}} {{reason}}',
            },
          ],
        },
        {
          title: 'Duplicates /s (retries of stored readings)',
          unit: 'ops',
          queries: [
            { expr: rate('vigil_ingest_readings_duplicate_total', 'protocol'), legend: '{{protocol}}' },
          ],
        },
      ],
    },
    {
      row: 'Requests',
      panels: [
        {
          title: 'Ingest requests /s by status',
          unit: 'reqps',
          stacked: true,
          queries: [
            {
              expr: rate('vigil_http_request_duration_seconds_count', 'route, status_code', INGEST_ROUTES),
              legend: '{{route}} {{status_code}}',
            },
          ],
        },
        {
          title: 'Ingest latency (to commit)',
          unit: 's',
          queries: [
            {
              expr: quantile(0.5, 'vigil_http_request_duration_seconds', 'route', INGEST_ROUTES),
              legend: 'p50 {{route}}',
            },
            {
              expr: quantile(0.99, 'vigil_http_request_duration_seconds', 'route', INGEST_ROUTES),
              legend: 'p99 {{route}}',
            },
          ],
        },
        {
          title: 'Rate limited /s',
          unit: 'reqps',
          description: 'ingest: requests per device or key; ingest_readings: a tenant readings budget.',
          queries: [
            {
              expr: rate('vigil_rate_limit_rejections_total', 'class', ', class=~"ingest|ingest_readings"'),
              legend: '{{class}}',
            },
          ],
        },
      ],
    },
    {
      row: 'MQTT and storage',
      panels: [
        {
          title: 'MQTT',
          queries: [
            { expr: `vigil_mqtt_connected{${I}}`, legend: 'connected {{instance}}' },
            { expr: rate('vigil_mqtt_messages_total', 'instance'), legend: 'messages/s {{instance}}' },
            {
              expr: rate('vigil_mqtt_auth_failures_total', 'instance'),
              legend: 'login failures/s {{instance}}',
            },
          ],
        },
        {
          title: 'Cache hit ratio',
          unit: 'percentunit',
          queries: [
            {
              expr: `${rate('vigil_cache_requests_total', 'cache', ', result="hit"')} / ${rate('vigil_cache_requests_total', 'cache')}`,
              legend: '{{cache}}',
            },
          ],
        },
        {
          title: 'Compactions',
          unit: 'ops',
          queries: [
            {
              expr: `sum(increase(vigil_storage_compactions_total{${I}}[$__rate_interval]))`,
              legend: 'compactions',
            },
            {
              expr: `sum(increase(vigil_storage_compaction_errors_total{${I}}[$__rate_interval]))`,
              legend: 'errors',
            },
          ],
        },
      ],
    },
  ]),

  'detection-alarms': dashboard(
    'vigil-detection-alarms',
    'Vigil / Detection and alarms',
    'From scored readings to anomalies, alarms, notifications and live clients.',
    [
      {
        row: 'Detection',
        panels: [
          {
            title: 'Readings scored /s',
            unit: 'ops',
            queries: [
              { expr: rate('vigil_detection_readings_scored_total', 'instance'), legend: '{{instance}}' },
            ],
          },
          {
            title: 'Anomalies /min by detector',
            stacked: true,
            queries: [
              {
                expr: `sum by (detector, kind) (increase(vigil_detection_anomalies_total{${I}}[1m]))`,
                legend: '{{detector}} {{kind}}',
              },
            ],
          },
          {
            title: 'Backlog',
            queries: [
              { expr: `vigil_detection_queue_readings{${I}}`, legend: 'queued readings {{instance}}' },
              { expr: `vigil_detection_lag_p99_seconds{${I}}`, legend: 'lag p99 (s) {{instance}}' },
              { expr: rate('vigil_detection_errors_total', 'instance'), legend: 'errors/s {{instance}}' },
            ],
          },
        ],
      },
      {
        row: 'Alarms',
        panels: [
          {
            title: 'Open alarms by severity',
            stacked: true,
            queries: [
              { expr: `max by (severity) (vigil_alarms_open{${I}, status="open"})`, legend: '{{severity}}' },
            ],
          },
          {
            title: 'Acknowledged alarms by severity',
            stacked: true,
            queries: [
              {
                expr: `max by (severity) (vigil_alarms_open{${I}, status="acknowledged"})`,
                legend: '{{severity}}',
              },
            ],
          },
          {
            title: 'Raised and cleared /h',
            queries: [
              {
                expr: `sum by (severity) (increase(vigil_alarms_raised_total{${I}}[1h]))`,
                legend: 'raised {{severity}}',
              },
              {
                expr: `sum by (severity) (increase(vigil_alarms_cleared_total{${I}}[1h]))`,
                legend: 'cleared {{severity}}',
              },
            ],
          },
        ],
      },
      {
        row: 'Notifications and jobs',
        panels: [
          {
            title: 'Notifications /min by channel type',
            queries: [
              {
                expr: `sum by (channel_type) (increase(vigil_notifications_sent_total{${I}}[5m])) / 5`,
                legend: 'sent {{channel_type}}',
              },
              {
                expr: `sum by (channel_type) (increase(vigil_notifications_retried_total{${I}}[5m])) / 5`,
                legend: 'retried {{channel_type}}',
              },
              {
                expr: `sum by (channel_type) (increase(vigil_notifications_failed_total{${I}}[5m])) / 5`,
                legend: 'failed {{channel_type}}',
              },
            ],
          },
          {
            title: 'Job runs /h by status',
            queries: [
              {
                expr: `sum by (job_name, status) (increase(vigil_job_runs_total{${I}}[1h]))`,
                legend: '{{job_name}} {{status}}',
              },
            ],
          },
          {
            title: 'Last successful job run',
            unit: 'dateTimeFromNow',
            queries: [
              {
                expr: `max by (job_name) (vigil_job_last_success_timestamp_seconds{${I}}) * 1000`,
                legend: '{{job_name}}',
              },
            ],
          },
        ],
      },
      {
        row: 'Live stream (WebSocket)',
        panels: [
          {
            title: 'Connections and subscriptions',
            queries: [
              { expr: `sum(vigil_ws_connections{${I}})`, legend: 'connections' },
              {
                expr: `sum by (channel) (vigil_ws_subscriptions{${I}})`,
                legend: 'subscriptions {{channel}}',
              },
            ],
          },
          {
            title: 'Messages /s',
            unit: 'ops',
            queries: [
              { expr: rate('vigil_ws_messages_sent_total', 'channel'), legend: 'sent {{channel}}' },
              {
                expr: rate('vigil_ws_messages_conflated_total', 'instance'),
                legend: 'conflated {{instance}}',
              },
              { expr: rate('vigil_ws_messages_dropped_total', 'reason'), legend: 'dropped {{reason}}' },
            ],
          },
          {
            title: 'Disconnects /min by reason',
            queries: [
              {
                expr: `sum by (reason) (increase(vigil_ws_disconnects_total{${I}}[1m]))`,
                legend: '{{reason}}',
              },
            ],
          },
        ],
      },
    ],
  ),

  security: dashboard(
    'vigil-security',
    'Vigil / Security',
    'Threat guard, rate limits and refused credentials.',
    [
      {
        row: 'Threat guard',
        panels: [
          {
            title: 'Requests blocked /s by reason',
            unit: 'reqps',
            stacked: true,
            queries: [{ expr: rate('vigil_guard_requests_blocked_total', 'reason'), legend: '{{reason}}' }],
          },
          {
            title: 'Requests flagged /s',
            unit: 'reqps',
            queries: [
              { expr: rate('vigil_guard_requests_flagged_total', 'instance'), legend: '{{instance}}' },
            ],
          },
          {
            title: 'IPs blocked /h',
            queries: [{ expr: `sum(increase(vigil_guard_ip_blocks_total{${I}}[1h]))`, legend: 'blocks' }],
          },
        ],
      },
      {
        row: 'Access',
        panels: [
          {
            title: 'Rate-limit rejections /s by class',
            unit: 'reqps',
            stacked: true,
            queries: [{ expr: rate('vigil_rate_limit_rejections_total', 'class'), legend: '{{class}}' }],
          },
          {
            title: 'Refused credentials and permissions /s',
            unit: 'reqps',
            queries: [
              {
                expr: rate(
                  'vigil_http_request_duration_seconds_count',
                  'status_code, route',
                  ', status_code=~"401|403"',
                ),
                legend: '{{status_code}} {{route}}',
              },
            ],
          },
          {
            title: 'Unknown URLs /s (scanners)',
            unit: 'reqps',
            queries: [
              {
                expr: rate('vigil_http_request_duration_seconds_count', 'status_code', ', route="unmatched"'),
                legend: '{{status_code}}',
              },
            ],
          },
        ],
      },
      {
        row: 'Devices',
        panels: [
          {
            title: 'MQTT login failures /s',
            unit: 'ops',
            queries: [{ expr: rate('vigil_mqtt_auth_failures_total', 'instance'), legend: '{{instance}}' }],
          },
          {
            title: 'Readings refused for ownership or quarantine /s',
            unit: 'ops',
            queries: [
              {
                expr: rate(
                  'vigil_ingest_readings_rejected_total',
                  'reason',
                  ', reason=~"NOT_OWNED|DEVICE_QUARANTINED"',
                ),
                legend: '{{reason}}',
              },
            ],
          },
          {
            title: 'Sign-in rate limited /s',
            unit: 'reqps',
            queries: [
              {
                expr: rate('vigil_rate_limit_rejections_total', 'class', ', class="auth"'),
                legend: '{{class}}',
              },
            ],
          },
        ],
      },
    ],
  ),
};
