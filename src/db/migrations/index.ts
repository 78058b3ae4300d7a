import type { Migration } from 'kysely';
import * as m20261124090000 from './20261124090000_job_runs.js';
import * as m20261124100000 from './20261124100000_identity.js';
import * as m20261124110000 from './20261124110000_registry.js';
import * as m20261124120000 from './20261124120000_readings.js';
import * as m20261124130000 from './20261124130000_device_presence.js';
import * as m20261124140000 from './20261124140000_tenant_quotas.js';
import * as m20261124150000 from './20261124150000_security.js';
import * as m20261124160000 from './20261124160000_detection.js';
import * as m20261124170000 from './20261124170000_alarms.js';
import * as m20261124180000 from './20261124180000_notifications.js';
import * as m20261124190000 from './20261124190000_incidents.js';
import * as m20261125000000 from './20261125000000_alarm_rules.js';
import * as m20261125010000 from './20261125010000_notification_routing.js';
import * as m20261126000000 from './20261126000000_platform_tenant.js';
import * as m20261127000000 from './20261127000000_backtests.js';
import * as m20261127010000 from './20261127010000_event_time_indexes.js';

/**
 * Every migration, by name; Kysely applies them in name order. Listed in code (not read from the
 * directory) so the build and the tests run exactly the same set. `vigil migrate create NAME`
 * adds entries here.
 */
export const migrations: Record<string, Migration> = {
  '20261124090000_job_runs': m20261124090000,
  '20261124100000_identity': m20261124100000,
  '20261124110000_registry': m20261124110000,
  '20261124120000_readings': m20261124120000,
  '20261124130000_device_presence': m20261124130000,
  '20261124140000_tenant_quotas': m20261124140000,
  '20261124150000_security': m20261124150000,
  '20261124160000_detection': m20261124160000,
  '20261124170000_alarms': m20261124170000,
  '20261124180000_notifications': m20261124180000,
  '20261124190000_incidents': m20261124190000,
  '20261125000000_alarm_rules': m20261125000000,
  '20261125010000_notification_routing': m20261125010000,
  '20261126000000_platform_tenant': m20261126000000,
  '20261127000000_backtests': m20261127000000,
  '20261127010000_event_time_indexes': m20261127010000,
  // vigil:migrations-end (keep this line: `vigil migrate create` inserts above it)
};
