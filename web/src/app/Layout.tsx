import { type ReactNode, useEffect, useRef, useState } from 'react';
import { useAlarmStore } from '../alarms/AlarmStore';
import { SEVERITIES, severityCounts } from '../alarms/alarm-list';
import { formatTime } from '../ui/format';
import { SEVERITY_LABEL, SeverityShape } from '../ui/Severity';
import { setThemeChoice, type ThemeChoice, themeChoice } from '../ui/theme';
import { useLiveStatus, useMe, useServices } from './context';
import { Link, useRouter } from './router';

export interface NavItem {
  readonly to: string;
  readonly label: string;
  /** Also current for paths under it (`/sensors/…`). */
  readonly prefix: string;
}

/** Connection to the live stream, with the time of the last message (ISA-101: stale data is visible). */
export function LiveIndicator() {
  const { status, lastMessageAt } = useLiveStatus();
  const label =
    status === 'live'
      ? 'Live'
      : status === 'connecting'
        ? 'Connecting…'
        : status === 'reconnecting'
          ? 'Reconnecting…'
          : 'Offline';
  return (
    <output
      className={`live live-${status}`}
      aria-live="polite"
      data-testid="live-indicator"
      data-status={status}
    >
      <span className="live-dot" aria-hidden="true" />
      <span>{label}</span>
      {lastMessageAt > 0 ? (
        <span className="live-time">
          <span className="sr-only">, last update at </span>
          <time dateTime={new Date(lastMessageAt).toISOString()}>{formatTime(lastMessageAt)}</time>
        </span>
      ) : null}
    </output>
  );
}

function ThemeToggle() {
  const [choice, setChoice] = useState<ThemeChoice>(themeChoice);
  const next: Record<ThemeChoice, ThemeChoice> = { system: 'dark', dark: 'light', light: 'system' };
  const names: Record<ThemeChoice, string> = { system: 'System', dark: 'Dark', light: 'Light' };
  return (
    <button
      type="button"
      className="btn btn-quiet"
      onClick={() => {
        const c = next[choice];
        setThemeChoice(c);
        setChoice(c);
      }}
      title="Switch between the dark control-room theme, the light theme and the system setting"
    >
      Theme: {names[choice]}
    </button>
  );
}

/** The alarm summary line: unacknowledged alarms per priority, always in view. */
function AlarmSummary() {
  const { state } = useAlarmStore();
  const counts = severityCounts(state);
  const total = SEVERITIES.reduce((n, s) => n + counts[s].unacked, 0);
  return (
    <Link to="/alarms" className="alarm-summary" aria-label={`${total} unacknowledged alarms`}>
      {SEVERITIES.filter((s) => s !== 'info').map((s) => (
        <span key={s} className={`summary-item ${counts[s].unacked > 0 ? 'summary-hot' : ''}`}>
          <SeverityShape severity={s} size={12} />
          <span className="sr-only">{SEVERITY_LABEL[s]}</span>
          <span className="summary-count">{counts[s].unacked}</span>
        </span>
      ))}
    </Link>
  );
}

export function Layout({ nav, children }: { nav: readonly NavItem[]; children: ReactNode }) {
  const me = useMe();
  const { session } = useServices();
  const { announcement } = useAlarmStore();
  const { location } = useRouter();
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After navigating, move focus to the new page so keyboard and screen-reader users start there.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on every path change
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    mainRef.current?.focus({ preventScroll: true });
  }, [location.path]);

  const current = (item: NavItem) =>
    item.prefix === '/' ? location.path === '/' : location.path.startsWith(item.prefix);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            V
          </span>
          <span className="brand-name">Vigil</span>
          <span className="tenant" title="Tenant">
            {me.tenant.name}
          </span>
        </div>
        <nav className="mainnav" aria-label="Main">
          <ul>
            {nav.map((item) => (
              <li key={item.to}>
                <Link to={item.to} aria-current={current(item) ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar-tools">
          <AlarmSummary />
          <LiveIndicator />
          <ThemeToggle />
          <span className="user" title={me.user.email}>
            {me.user.displayName} <span className="role">({me.tenant.role})</span>
          </span>
          <button type="button" className="btn btn-quiet" onClick={() => void session.logout()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        {children}
      </main>
      <div className="sr-only" aria-live="assertive" aria-atomic="true">
        {announcement}
      </div>
    </div>
  );
}
