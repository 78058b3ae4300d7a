import type { ReactNode } from 'react';
import { useCan, useMe } from '../app/context';
import { Link, matchPath, useRouter } from '../app/router';
import { EmptyState } from '../ui/States';
import { ApiKeysPage } from './ApiKeysPage';
import { AuditPage } from './AuditPage';
import { DetectionConfigPage } from './DetectionConfigPage';
import { DeviceDetail, DevicesPage } from './DevicesPage';
import { MembersPage } from './MembersPage';
import { NotificationsPage } from './NotificationsPage';
import { RegistryAdmin } from './RegistryAdmin';
import { SecurityPage } from './SecurityPage';
import { SystemPage } from './SystemPage';

interface AdminSection {
  readonly to: string;
  readonly label: string;
  readonly description: string;
  /** Needed to open the section (the API enforces it too); `platform`: platform administrators. */
  readonly permission: string;
}

/** Administration's sections, each behind the permission its API needs. */
export const SECTIONS: readonly AdminSection[] = [
  {
    to: '/admin/devices',
    label: 'Devices',
    description: 'Loggers and gateways, their credentials, quarantine.',
    permission: 'devices:read',
  },
  {
    to: '/admin/registry',
    label: 'Registry',
    description: 'Sensor types, sites, assets and sensors; CSV import.',
    permission: 'devices:read',
  },
  {
    to: '/admin/members',
    label: 'Users and roles',
    description: 'Members, their roles, and invitations.',
    permission: 'users:read',
  },
  {
    to: '/admin/api-keys',
    label: 'API keys',
    description: 'Keys for integrations, with a subset of your permissions.',
    permission: 'api-keys:manage',
  },
  {
    to: '/admin/detection',
    label: 'Detectors and alarm rules',
    description: 'Detector documents and the rules that turn detections into alarms.',
    permission: 'alarms:read',
  },
  {
    to: '/admin/notifications',
    label: 'Notifications and maintenance',
    description: 'Channels alarms are sent to; planned maintenance windows.',
    permission: 'alarms:read',
  },
  {
    to: '/admin/security',
    label: 'Security',
    description: 'What the edge guard flagged, blocked or denied; IP blocks (platform).',
    permission: 'audit:read',
  },
  {
    to: '/admin/audit',
    label: 'Audit log',
    description: 'Who did what, when, from where.',
    permission: 'audit:read',
  },
  {
    to: '/admin/system',
    label: 'System and jobs',
    description: 'Instance health, dependencies and job runs (platform administrators).',
    permission: 'platform',
  },
];

const PAGES: readonly {
  pattern: string;
  permission: string;
  render: (p: Record<string, string>) => ReactNode;
}[] = [
  { pattern: '/admin/devices', permission: 'devices:read', render: () => <DevicesPage /> },
  { pattern: '/admin/devices/:id', permission: 'devices:read', render: (p) => <DeviceDetail id={p.id!} /> },
  { pattern: '/admin/registry', permission: 'devices:read', render: () => <RegistryAdmin /> },
  { pattern: '/admin/detection', permission: 'alarms:read', render: () => <DetectionConfigPage /> },
  { pattern: '/admin/notifications', permission: 'alarms:read', render: () => <NotificationsPage /> },
  { pattern: '/admin/security', permission: 'audit:read', render: () => <SecurityPage /> },
  { pattern: '/admin/system', permission: 'platform', render: () => <SystemPage /> },
  { pattern: '/admin/api-keys', permission: 'api-keys:manage', render: () => <ApiKeysPage /> },
  { pattern: '/admin/members', permission: 'users:read', render: () => <MembersPage /> },
  { pattern: '/admin/audit', permission: 'audit:read', render: () => <AuditPage /> },
];

function Index({ sections }: { sections: readonly AdminSection[] }) {
  return (
    <section className="page" aria-labelledby="admin-title">
      <h1 id="admin-title">Administration</h1>
      <ul className="admin-index">
        {sections.map((s) => (
          <li key={s.to} className="panel">
            <Link to={s.to}>{s.label}</Link>
            <span className="muted small">{s.description}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * Administration (loaded on first visit, not with the shell): a section menu filtered by the
 * user's permissions, and the section's page.
 */
export function AdminHome() {
  const { location } = useRouter();
  const permitted = useCan();
  const me = useMe();
  const can = (p: string) => (p === 'platform' ? me.user.isPlatformAdmin : permitted(p));
  const sections = SECTIONS.filter((s) => can(s.permission));
  let page: ReactNode = null;
  if (location.path === '/admin' || location.path === '/admin/') page = <Index sections={sections} />;
  else {
    for (const p of PAGES) {
      const params = matchPath(p.pattern, location.path);
      if (!params) continue;
      page = can(p.permission) ? (
        p.render(params)
      ) : (
        <section className="page">
          <h1>Not available to your role</h1>
          <EmptyState title="You do not have permission to open this page." />
        </section>
      );
      break;
    }
  }
  return (
    <div className="admin">
      <nav className="subnav" aria-label="Administration">
        <ul>
          {sections.map((s) => (
            <li key={s.to}>
              <Link to={s.to} aria-current={location.path.startsWith(s.to) ? 'page' : undefined}>
                {s.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {page ?? (
        <section className="page">
          <h1>Page not found</h1>
          <EmptyState title="There is nothing at this address.">
            <Link to="/admin">Back to administration</Link>
          </EmptyState>
        </section>
      )}
    </div>
  );
}
