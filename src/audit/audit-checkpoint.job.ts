import type { JobDefinition } from '../jobs/job.js';
import { auditHead } from './audit.repository.js';

/**
 * Writes the audit chain's head (seq and hash) to the log every hour. Logs are shipped away from
 * the database, so `vigil audit verify --checkpoint seq:hash` can later prove no rows were cut
 * off the end, which the chain alone cannot show.
 */
export const auditCheckpointJob: JobDefinition = {
  name: 'audit.checkpoint',
  description: 'Log the audit chain head for out-of-database truncation checks',
  schedule: '0 7 * * * *',
  timeoutMs: 60_000,
  retries: 2,
  backoffMs: 10_000,
  async handler({ services, log }) {
    const head = await auditHead(services.database.db);
    log.info({ auditHead: head ? `${head.seq}:${head.hash}` : null }, 'audit checkpoint');
  },
};
