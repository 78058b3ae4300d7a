import { EmptyState } from '../ui/States';

/**
 * Administration's landing page. Its pages — users, roles and invitations; API keys and device
 * credentials; the registry with CSV import; detector and alarm-rule configuration; notification
 * channels and maintenance windows; security events; the audit log; system health — are the next
 * milestone and mount under /admin/*.
 */
export function AdminHome() {
  return (
    <section className="page">
      <h1>Administration</h1>
      <EmptyState title="Administration pages are coming in the next release.">
        <p>Until then, use the API (see /docs) for users, devices, rules and channels.</p>
      </EmptyState>
    </section>
  );
}
