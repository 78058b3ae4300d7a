export type AuditOutcome = 'success' | 'failure' | 'denied';
export type AuditSeverity = 'info' | 'warning' | 'critical';
export type ActorType = 'user' | 'api-key' | 'device' | 'system' | 'anonymous';

/** What happened, by whom, to what. Never put credentials or tokens in `details`. */
export interface AuditEvent {
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly severity?: AuditSeverity;
  readonly tenantId?: string | null;
  readonly actorType: ActorType;
  readonly actorId?: string | null;
  readonly targetType?: string | null;
  readonly targetId?: string | null;
  readonly ip?: string | null;
  readonly userAgent?: string | null;
  readonly requestId?: string | null;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface AuditEntry {
  readonly seq: number;
  readonly ts: Date;
  readonly tenantId: string | null;
  readonly actorType: string;
  readonly actorId: string | null;
  readonly action: string;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly outcome: AuditOutcome;
  readonly severity: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  readonly details: Record<string, unknown>;
}
