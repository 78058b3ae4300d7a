import type { WorkOrder, WorkOrderStatus } from '../api/types';

export const WORK_ORDER_STATUSES: readonly WorkOrderStatus[] = ['planned', 'in_progress', 'done'];

export const STATUS_LABEL: Record<WorkOrderStatus, string> = {
  planned: 'Planned',
  in_progress: 'In progress',
  done: 'Done',
};

/** Where a work order may go from each status: forward only (as the server allows). */
export const NEXT_STATUS: Record<WorkOrderStatus, readonly WorkOrderStatus[]> = {
  planned: ['in_progress', 'done'],
  in_progress: ['done'],
  done: [],
};

/** The button that moves a work order to a status. */
export const ADVANCE_LABEL: Record<WorkOrderStatus, string> = {
  planned: 'Plan',
  in_progress: 'Start work',
  done: 'Mark done',
};

/** The statuses a work order can move on to (none for an unknown or final one). */
export function nextStatuses(status: string): readonly WorkOrderStatus[] {
  return NEXT_STATUS[status as WorkOrderStatus] ?? [];
}

export const statusLabel = (status: string): string => STATUS_LABEL[status as WorkOrderStatus] ?? status;

/** Planned for a time that has passed and not started yet. */
export function isLate(w: WorkOrder, now: number): boolean {
  return w.status === 'planned' && w.plannedFor !== null && Date.parse(w.plannedFor) < now;
}

/** The maintenance log's address: filters (asset, status) and, with `new`, the create form prefilled. */
export function maintenanceHref(p: {
  asset?: string | null | undefined;
  status?: string | undefined;
  create?: boolean;
  alarm?: string | null | undefined;
  incident?: string | null | undefined;
  title?: string | undefined;
}): string {
  const q = new URLSearchParams();
  if (p.asset) q.set('asset', p.asset);
  if (p.status) q.set('status', p.status);
  if (p.create) q.set('new', '1');
  if (p.alarm) q.set('alarm', p.alarm);
  if (p.incident) q.set('incident', p.incident);
  if (p.title) q.set('title', p.title);
  const qs = q.toString();
  return `/maintenance${qs ? `?${qs}` : ''}`;
}

/** `datetime-local` text as RFC 3339 (undefined when empty or not a time). */
export function localToIso(local: string): string | undefined {
  if (!local) return undefined;
  const t = new Date(local).getTime();
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}
