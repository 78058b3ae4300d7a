import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Anomaly, ThresholdRule } from '../api/types';
import { formatFull } from '../ui/format';
import { explain, normalRange, type Series } from './chart-data';

export interface TrendChartProps {
  readonly series: Series;
  /** The visible window (epoch ms). */
  readonly from: number;
  readonly to: number;
  readonly unit: string;
  readonly rules: readonly ThresholdRule[];
  readonly anomalies: readonly Anomaly[];
  readonly maintenance: readonly { start: number; end: number; title: string }[];
  readonly label: string;
  /** A range picked by dragging across the chart (epoch ms). */
  readonly onZoom: (from: number, to: number) => void;
  readonly onKeyDown?: (e: KeyboardEvent<HTMLDivElement>) => void;
}

const css = (name: string) =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

/** The current theme, following changes of <html data-theme>. */
function useThemeName(): string {
  const [theme, setTheme] = useState(() => document.documentElement.dataset.theme ?? 'dark');
  useEffect(() => {
    const obs = new MutationObserver(() => setTheme(document.documentElement.dataset.theme ?? 'dark'));
    obs.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => obs.disconnect();
  }, []);
  return theme;
}

const SEV_VAR: Record<string, string> = {
  critical: '--sev-critical',
  major: '--sev-major',
  minor: '--sev-minor',
  warning: '--sev-warning',
  info: '--sev-info',
};

/**
 * A uPlot trend: the value (or bucket average with its min–max band), the normal operating range
 * shaded, threshold limits drawn, maintenance windows hatched, anomalies marked (their
 * explanation on hover); drag across it to zoom. Times are in seconds inside uPlot.
 */
export function TrendChart(props: TrendChartProps) {
  // Colours come from the theme's CSS variables: a new theme draws a new chart.
  const theme = useThemeName();
  return <Chart key={theme} {...props} />;
}

function Chart(props: TrendChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const tip = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const c = {
      line: css('--chart-line'),
      band: css('--chart-band'),
      grid: css('--chart-grid'),
      axis: css('--text-muted'),
      normal: css('--normal-band'),
      limit: css('--chart-limit'),
      maint: css('--maint-band'),
      anomaly: css('--anomaly'),
      bg: css('--surface'),
    };
    const font = '12px system-ui, sans-serif';

    const drawBackground = (u: uPlot) => {
      const { ctx, bbox } = u;
      const p = latest.current;
      ctx.save();
      ctx.beginPath();
      ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
      ctx.clip();
      const { low, high } = normalRange(p.rules);
      if (low !== null || high !== null) {
        const yTop = high !== null ? u.valToPos(high, 'y', true) : bbox.top;
        const yBottom = low !== null ? u.valToPos(low, 'y', true) : bbox.top + bbox.height;
        ctx.fillStyle = c.normal;
        ctx.fillRect(bbox.left, yTop, bbox.width, yBottom - yTop);
      }
      for (const w of p.maintenance) {
        const x0 = u.valToPos(w.start / 1000, 'x', true);
        const x1 = u.valToPos(w.end / 1000, 'x', true);
        ctx.fillStyle = c.maint;
        ctx.fillRect(x0, bbox.top, Math.max(2, x1 - x0), bbox.height);
      }
      ctx.restore();
    };

    const drawOverlays = (u: uPlot) => {
      const { ctx, bbox } = u;
      const p = latest.current;
      const dpr = uPlot.pxRatio;
      ctx.save();
      ctx.beginPath();
      ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
      ctx.clip();
      ctx.font = font.replace('12px', `${12 * dpr}px`);
      for (const r of p.rules) {
        const y = u.valToPos(r.value, 'y', true);
        ctx.strokeStyle = r.severity ? css(SEV_VAR[r.severity] ?? '--chart-limit') : c.limit;
        ctx.lineWidth = 1.5 * dpr;
        ctx.setLineDash([6 * dpr, 4 * dpr]);
        ctx.beginPath();
        ctx.moveTo(bbox.left, y);
        ctx.lineTo(bbox.left + bbox.width, y);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = c.axis;
        ctx.textAlign = 'left';
        ctx.textBaseline = 'bottom';
        ctx.fillText(`${r.id} (${r.when} ${r.value})`, bbox.left + 6 * dpr, y - 4 * dpr);
      }
      for (const a of p.anomalies) {
        if (a.value === null) continue;
        const x = u.valToPos(Date.parse(a.ts) / 1000, 'x', true);
        const y = u.valToPos(a.value, 'y', true);
        if (x < bbox.left || x > bbox.left + bbox.width) continue;
        const s = 6 * dpr;
        ctx.beginPath();
        if (a.kind === 'point') {
          ctx.moveTo(x, y - s);
          ctx.lineTo(x + s, y);
          ctx.lineTo(x, y + s);
          ctx.lineTo(x - s, y);
          ctx.closePath();
        } else {
          ctx.moveTo(x, y - s);
          ctx.lineTo(x + s, y + s);
          ctx.lineTo(x - s, y + s);
          ctx.closePath();
        }
        ctx.fillStyle =
          a.kind === 'cleared' ? c.bg : a.severity ? css(SEV_VAR[a.severity] ?? '--anomaly') : c.anomaly;
        ctx.strokeStyle = a.kind === 'cleared' ? c.axis : c.bg;
        ctx.lineWidth = 1.5 * dpr;
        ctx.fill();
        ctx.stroke();
      }
      ctx.restore();
    };

    const showTip = (u: uPlot) => {
      const t = tip.current;
      if (!t) return;
      const { left, top, idx } = u.cursor;
      if (left === undefined || left < 0 || idx === null || idx === undefined) {
        t.hidden = true;
        return;
      }
      const p = latest.current;
      let near: Anomaly | undefined;
      let best = 12;
      for (const a of p.anomalies) {
        if (a.value === null) continue;
        const ax = u.valToPos(Date.parse(a.ts) / 1000, 'x');
        const ay = u.valToPos(a.value, 'y');
        const d = Math.hypot(ax - left, ay - (top ?? 0));
        if (d < best) {
          best = d;
          near = a;
        }
      }
      const ts = (u.data[0][idx] ?? 0) * 1000;
      const v = u.data[1]?.[idx];
      const min = u.data[2]?.[idx];
      const max = u.data[3]?.[idx];
      const lines = near
        ? [formatFull(near.ts), explain(near, p.unit)]
        : [
            formatFull(ts),
            v === null || v === undefined
              ? 'no data'
              : `${v.toLocaleString(undefined, { maximumFractionDigits: 3 })} ${p.unit}${
                  min !== null && min !== undefined && max !== null && max !== undefined
                    ? ` (min ${min.toLocaleString(undefined, { maximumFractionDigits: 3 })}, max ${max.toLocaleString(undefined, { maximumFractionDigits: 3 })})`
                    : ''
                }`,
          ];
      t.replaceChildren(
        ...lines.map((l, i) => {
          const d = document.createElement('div');
          d.textContent = l;
          if (i === 0) d.className = 'tip-time';
          return d;
        }),
      );
      t.classList.toggle('tip-anomaly', near !== undefined);
      t.hidden = false;
      const w = u.over.clientWidth;
      const x = left + 14 + 260 > w ? Math.max(0, left - 274) : left + 14;
      t.style.transform = `translate(${x}px, ${Math.max(0, (top ?? 0) - 10)}px)`;
    };

    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: el.clientWidth < 600 ? 240 : 320,
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        points: { size: 6 },
      },
      scales: {
        x: { time: true, range: () => [latest.current.from / 1000, latest.current.to / 1000] },
        y: {
          range: (_u, dataMin, dataMax) => {
            const limits = latest.current.rules.map((r) => r.value);
            let lo = Math.min(...[dataMin, ...limits].filter((x) => Number.isFinite(x)));
            let hi = Math.max(...[dataMax, ...limits].filter((x) => Number.isFinite(x)));
            if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
            if (lo === hi) {
              lo -= 1;
              hi += 1;
            }
            const pad = (hi - lo) * 0.08;
            return [lo - pad, hi + pad];
          },
        },
      },
      axes: [
        { stroke: c.axis, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid }, font },
        {
          stroke: c.axis,
          grid: { stroke: c.grid, width: 1 },
          ticks: { stroke: c.grid },
          font,
          size: 60,
          label: props.unit,
          labelFont: font,
        },
      ],
      series: [
        {},
        { label: 'Value', stroke: c.line, width: 1.6, spanGaps: false, points: { show: false } },
        { label: 'Min', stroke: 'transparent', width: 0, points: { show: false } },
        { label: 'Max', stroke: 'transparent', width: 0, points: { show: false } },
      ],
      bands: [{ series: [3, 2], fill: c.band }],
      hooks: {
        drawClear: [drawBackground],
        draw: [drawOverlays],
        setCursor: [showTip],
        setSelect: [
          (u) => {
            const { left, width } = u.select;
            if (width > 4) {
              const a = u.posToVal(left, 'x') * 1000;
              const b = u.posToVal(left + width, 'x') * 1000;
              latest.current.onZoom(Math.round(a), Math.round(b));
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
      },
    };
    const s = latest.current.series;
    const u = new uPlot(opts, [s.t, s.v, s.min, s.max], el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(280, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height: w < 600 ? 240 : 320 });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [props.unit]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new window redraws the x scale (read from props)
  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    const s = props.series;
    u.setData([s.t, s.v, s.min, s.max]);
  }, [props.series, props.from, props.to]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the overlays are drawn from props by the hooks
  useEffect(() => {
    plot.current?.redraw(false);
  }, [props.rules, props.anomalies, props.maintenance]);

  return (
    <div
      className="trend"
      role="img"
      aria-label={props.label}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: the chart takes arrow keys to pan and +/- to zoom
      tabIndex={0}
      onKeyDown={props.onKeyDown}
      data-points={props.series.t.length}
    >
      <div ref={host} className="trend-plot" />
      <div ref={tip} className="trend-tip" hidden role="presentation" />
    </div>
  );
}
