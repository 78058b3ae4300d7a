import { lazy, type ReactNode, Suspense, useEffect } from 'react';
import { AlarmDetail } from '../alarms/AlarmDetail';
import { AlarmStoreProvider } from '../alarms/AlarmStore';
import { AlarmsPage } from '../alarms/AlarmsPage';
import { MfaEnrollment } from '../auth/MfaEnrollment';
import { SignIn } from '../auth/SignIn';
import { LiveValuesProvider, RegistryProvider } from '../data/registry';
import { IncidentDetail } from '../incidents/IncidentDetail';
import { IncidentsPage } from '../incidents/IncidentsPage';
import { OverviewPage } from '../overview/OverviewPage';
import { SensorsPage } from '../sensors/SensorsPage';
import { EmptyState, Loading } from '../ui/States';
import { useCan, useServices, useSessionState } from './context';
import { Layout, type NavItem } from './Layout';
import { Link, matchPath, useRouter } from './router';

// The sensor page carries uPlot: loaded when first opened, not with the shell.
const SensorPage = lazy(() => import('../sensors/SensorPage').then((m) => ({ default: m.SensorPage })));
// Administration and the Lab are for few users: their own chunks, loaded when first opened.
const AdminHome = lazy(() => import('../admin/AdminHome').then((m) => ({ default: m.AdminHome })));
const LabPage = lazy(() => import('../lab/LabPage').then((m) => ({ default: m.LabPage })));
// The maintenance log (work orders): its own chunk too.
const MaintenancePage = lazy(() =>
  import('../maintenance/MaintenancePage').then((m) => ({ default: m.MaintenancePage })),
);
const WorkOrderDetail = lazy(() =>
  import('../maintenance/MaintenancePage').then((m) => ({ default: m.WorkOrderDetail })),
);

interface RouteDef {
  readonly pattern: string;
  readonly title: string;
  /** Needed to see the page at all (the API enforces it too). */
  readonly permission?: string;
  readonly render: (params: Record<string, string>) => ReactNode;
}

/**
 * Every page. Administration's sections (/admin/*) check their own permissions as well; the Lab
 * (/lab) is for those who may train and activate models.
 */
const ROUTES: readonly RouteDef[] = [
  { pattern: '/', title: 'Overview', render: () => <OverviewPage /> },
  { pattern: '/sensors', title: 'Sensors', render: () => <SensorsPage /> },
  { pattern: '/sensors/:id', title: 'Sensor', render: (p) => <SensorPage id={p.id!} /> },
  { pattern: '/alarms', title: 'Alarms', render: () => <AlarmsPage /> },
  { pattern: '/alarms/:id', title: 'Alarm', render: (p) => <AlarmDetail id={p.id!} /> },
  { pattern: '/incidents', title: 'Incidents', render: () => <IncidentsPage /> },
  { pattern: '/incidents/:id', title: 'Incident', render: (p) => <IncidentDetail id={p.id!} /> },
  {
    pattern: '/maintenance',
    title: 'Maintenance log',
    permission: 'alarms:read',
    render: () => <MaintenancePage />,
  },
  {
    pattern: '/maintenance/:id',
    title: 'Work order',
    permission: 'alarms:read',
    render: (p) => <WorkOrderDetail id={p.id!} />,
  },
  { pattern: '/admin/*', title: 'Administration', permission: 'users:read', render: () => <AdminHome /> },
  { pattern: '/lab', title: 'Lab', permission: 'detection:write', render: () => <LabPage /> },
];

const NAV: readonly (NavItem & { permission?: string })[] = [
  { to: '/', label: 'Overview', prefix: '/' },
  { to: '/sensors', label: 'Sensors', prefix: '/sensors' },
  { to: '/alarms', label: 'Alarms', prefix: '/alarms' },
  { to: '/incidents', label: 'Incidents', prefix: '/incidents' },
  { to: '/maintenance', label: 'Maintenance', prefix: '/maintenance', permission: 'alarms:read' },
  { to: '/lab', label: 'Lab', prefix: '/lab', permission: 'detection:write' },
  { to: '/admin', label: 'Administration', prefix: '/admin', permission: 'users:read' },
];

function Forbidden() {
  return (
    <section className="page">
      <h1>Not available to your role</h1>
      <EmptyState title="You do not have permission to open this page.">
        <p>
          Ask an administrator of your organisation if you need it. <Link to="/">Back to the overview</Link>
        </p>
      </EmptyState>
    </section>
  );
}

function NotFound() {
  return (
    <section className="page">
      <h1>Page not found</h1>
      <EmptyState title="There is nothing at this address.">
        <Link to="/">Back to the overview</Link>
      </EmptyState>
    </section>
  );
}

function SignedInApp() {
  const { location } = useRouter();
  const can = useCan();
  let page: ReactNode = <NotFound />;
  let title = 'Not found';
  for (const r of ROUTES) {
    const params = matchPath(r.pattern, location.path);
    if (!params) continue;
    title = r.title;
    page = r.permission && !can(r.permission) ? <Forbidden /> : r.render(params);
    break;
  }
  useEffect(() => {
    document.title = `${title} · Vigil`;
  }, [title]);
  const nav = NAV.filter((n) => !n.permission || can(n.permission));
  return (
    <RegistryProvider>
      <LiveValuesProvider>
        <AlarmStoreProvider>
          <Layout nav={nav}>
            <Suspense fallback={<Loading what="Opening" />}>{page}</Suspense>
          </Layout>
        </AlarmStoreProvider>
      </LiveValuesProvider>
    </RegistryProvider>
  );
}

/** Sign-in until there is a session; then the control room with its live stream running. */
export function App() {
  const state = useSessionState();
  const { stream } = useServices();
  const signedIn = state.status === 'signed-in';
  useEffect(() => {
    if (signedIn) stream.start();
    else stream.stop();
  }, [signedIn, stream]);
  useEffect(() => {
    if (!signedIn) document.title = 'Sign in · Vigil';
  }, [signedIn]);
  if (state.status === 'starting') return <Loading what="Starting the control room" />;
  if (!signedIn) return <SignIn />;
  if (state.me.mfaEnrollmentRequired) return <MfaEnrollment />;
  return <SignedInApp key={state.me.sessionId} />;
}
