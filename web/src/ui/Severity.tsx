import type { AlarmStatus, Severity } from '../api/types';

export const SEVERITY_LABEL: Record<Severity, string> = {
  critical: 'Critical',
  major: 'Major',
  minor: 'Minor',
  warning: 'Warning',
  info: 'Info',
};

/** Priority 1–5 as operators say it ("P1 critical"). */
export const PRIORITY: Record<Severity, number> = { critical: 1, major: 2, minor: 3, warning: 4, info: 5 };

/**
 * The shape of each priority (ISA-101: never colour alone): critical a diamond, major a triangle,
 * minor a square, warning a circle, info a ring. Drawn in a 16×16 box.
 */
export function SeverityShape({ severity, size = 14 }: { severity: Severity; size?: number }) {
  const cls = `sev-shape sev-${severity}`;
  return (
    <svg className={cls} width={size} height={size} viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      {severity === 'critical' && <path d="M8 1 15 8 8 15 1 8Z" />}
      {severity === 'major' && <path d="M8 1.5 15 14.5H1Z" />}
      {severity === 'minor' && <rect x="2" y="2" width="12" height="12" rx="1" />}
      {severity === 'warning' && <circle cx="8" cy="8" r="6.5" />}
      {severity === 'info' && <circle cx="8" cy="8" r="5.5" className="sev-ring" />}
    </svg>
  );
}

/** Priority as shape, colour and text together. */
export function SeverityBadge({ severity, compact = false }: { severity: Severity; compact?: boolean }) {
  const label = SEVERITY_LABEL[severity] ?? severity;
  return (
    <span className={`sev-badge sev-badge-${severity}`} title={`Priority ${PRIORITY[severity]}: ${label}`}>
      <SeverityShape severity={severity} />
      <span className={compact ? 'sr-only' : undefined}>{label}</span>
    </span>
  );
}

const STATUS_LABEL: Record<AlarmStatus, string> = {
  open: 'Unacknowledged',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
  closed: 'Closed',
};

/** Alarm state in words; unacknowledged is emphasised (bold, marked) since it needs a person. */
export function AlarmStatusText({ status, shelved }: { status: AlarmStatus; shelved?: boolean | undefined }) {
  return (
    <span className={`alarm-status alarm-status-${status}`}>
      {status === 'open' && (
        <span aria-hidden="true" className="unack-mark">
          !
        </span>
      )}
      {STATUS_LABEL[status] ?? status}
      {shelved ? <span className="tag">Shelved</span> : null}
    </span>
  );
}
