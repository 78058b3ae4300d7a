import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { auditContext, recordAudit } from '../audit/audit.service.js';
import { Uuid } from '../auth/auth.schemas.js';
import type { DbOrTrx } from '../db/database.js';
import { SEVERITIES } from '../detection/config/detector-config.schema.js';
import { AppError, type FieldError } from '../http/errors/catalogue.js';
import { encodeCursor, keysetCursor } from '../http/pagination.js';
import type { Services } from '../services.js';
import { type AlarmPolicy, type AlarmRule, defaultPolicy, policyFor, RULE_DETECTORS } from './alarm-rules.js';
import {
  deleteRule,
  findRule,
  insertRule,
  listRules,
  type RuleInput,
  replaceRule,
} from './alarm-rules.repository.js';

const iso = (t: number) => new Date(t).toISOString();
const Severity = Type.Unsafe<(typeof SEVERITIES)[number]>({ type: 'string', enum: [...SEVERITIES] });
const AutoClear = Type.Union([Type.Literal('on-clear'), Type.Literal('after-quiet'), Type.Literal('manual')]);
const Detector = Type.Unsafe<(typeof RULE_DETECTORS)[number]>({ type: 'string', enum: [...RULE_DETECTORS] });
const WEEK_S = 7 * 86_400;

const RuleBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    enabled: Type.Optional(Type.Boolean()),
    sensorTypeId: Type.Optional(Uuid),
    assetId: Type.Optional(Uuid),
    sensorId: Type.Optional(Uuid),
    detectors: Type.Array(Detector, { minItems: 1, maxItems: RULE_DETECTORS.length, uniqueItems: true }),
    ruleIds: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        minItems: 1,
        maxItems: 32,
        uniqueItems: true,
      }),
    ),
    action: Type.Optional(Type.Union([Type.Literal('raise'), Type.Literal('ignore')])),
    severity: Type.Optional(Type.Union([Severity, Type.Null()])),
    minScore: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    delayS: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
    minOccurrences: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    withinS: Type.Optional(Type.Integer({ minimum: 0, maximum: WEEK_S })),
    autoClear: Type.Optional(AutoClear),
    quietS: Type.Optional(Type.Integer({ minimum: 0, maximum: WEEK_S })),
  },
  { additionalProperties: false },
);
type RuleBodyT = Static<typeof RuleBody>;

const RuleSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  enabled: Type.Boolean(),
  sensorTypeId: Type.Union([Type.String(), Type.Null()]),
  assetId: Type.Union([Type.String(), Type.Null()]),
  sensorId: Type.Union([Type.String(), Type.Null()]),
  detectors: Type.Array(Type.String()),
  ruleIds: Type.Union([Type.Array(Type.String()), Type.Null()]),
  action: Type.String(),
  severity: Type.Union([Type.String(), Type.Null()]),
  minScore: Type.Number(),
  delayS: Type.Integer(),
  minOccurrences: Type.Integer(),
  withinS: Type.Integer(),
  autoClear: Type.String(),
  quietS: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
});

const PolicySchema = Type.Object({
  detector: Type.String(),
  /** The alarm rule that applies (null: the built-in default). */
  alarmRuleId: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  severity: Type.Union([Type.String(), Type.Null()]),
  minScore: Type.Number(),
  delayS: Type.Number(),
  minOccurrences: Type.Integer(),
  withinS: Type.Number(),
  autoClear: Type.String(),
  quietS: Type.Number(),
});

const present = (r: AlarmRule) => ({
  ...r,
  detectors: [...r.detectors],
  ruleIds: r.ruleIds ? [...r.ruleIds] : null,
  createdAt: iso(r.createdAt),
});
const presentPolicy = (detector: string, p: AlarmPolicy) => ({
  detector,
  alarmRuleId: p.ruleId,
  action: p.action,
  severity: p.severity,
  minScore: p.minScore,
  delayS: p.delayMs / 1000,
  minOccurrences: p.minOccurrences,
  withinS: p.withinMs / 1000,
  autoClear: p.autoClear,
  quietS: p.quietMs / 1000,
});

/** The detectors a policy is shown for (`*` is only a wildcard in rules). */
const SHOWN = RULE_DETECTORS.filter((d) => d !== '*');

/**
 * A rule body checked beyond its schema (each error names its field), with its defaults filled
 * in: the policy of the detector's built-in default where the body is silent.
 */
async function checked(db: DbOrTrx, tenantId: string, b: RuleBodyT): Promise<RuleInput> {
  const errors: FieldError[] = [];
  const scopes = (['sensorTypeId', 'assetId', 'sensorId'] as const).filter((k) => b[k] !== undefined);
  if (scopes.length > 1)
    errors.push({
      pointer: `/body/${scopes[1]}`,
      detail: 'a rule has one scope: sensorTypeId, assetId or sensorId (or none: the whole tenant)',
    });
  const owned = async (table: 'sensor_types' | 'assets' | 'sensors', id: string | undefined) =>
    id === undefined ||
    (await db
      .selectFrom(table)
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst()) !== undefined;
  if (!(await owned('sensor_types', b.sensorTypeId)))
    errors.push({ pointer: '/body/sensorTypeId', detail: 'is not a sensor type of this tenant' });
  if (!(await owned('assets', b.assetId)))
    errors.push({ pointer: '/body/assetId', detail: 'is not an asset of this tenant' });
  if (!(await owned('sensors', b.sensorId)))
    errors.push({ pointer: '/body/sensorId', detail: 'is not a sensor of this tenant' });
  if (b.ruleIds && b.detectors.some((d) => d !== 'threshold' && d !== 'asset-rule'))
    errors.push({
      pointer: '/body/ruleIds',
      detail: 'only threshold and asset-rule detectors have rule ids',
    });
  if (b.detectors.includes('asset-rule') && (b.sensorId || b.sensorTypeId))
    errors.push({
      pointer: `/body/detectors/${b.detectors.indexOf('asset-rule')}`,
      detail: 'asset rules raise alarms of an asset: scope the rule by asset or to the whole tenant',
    });
  // Where the body is silent, the built-in default of the (first) detector it names.
  const base = defaultPolicy(b.detectors.includes('anomaly') ? 'anomaly' : (b.detectors[0] ?? '*'));
  const minOccurrences = b.minOccurrences ?? 1;
  const withinS = b.withinS ?? 0;
  const autoClear = b.autoClear ?? base.autoClear;
  const quietS = b.quietS ?? (autoClear === 'after-quiet' ? base.quietMs / 1000 || 3600 : 0);
  // Conditions raise once per episode (and a clear ends the count): only anomalies recur.
  if (minOccurrences > 1 && (b.detectors.length !== 1 || b.detectors[0] !== 'anomaly'))
    errors.push({
      pointer: '/body/minOccurrences',
      detail:
        'counting occurrences applies to point anomalies only (detectors ["anomaly"]); use delayS for conditions',
    });
  if (minOccurrences > 1 && withinS === 0)
    errors.push({ pointer: '/body/withinS', detail: 'minOccurrences above 1 needs the window they fall in' });
  if (autoClear === 'after-quiet' && quietS === 0)
    errors.push({ pointer: '/body/quietS', detail: 'after-quiet needs a quiet period above 0' });
  if (autoClear !== 'after-quiet' && quietS > 0)
    errors.push({ pointer: '/body/quietS', detail: 'a quiet period applies only to autoClear after-quiet' });
  if (errors.length > 0) throw new AppError('VALIDATION_FAILED', 'The alarm rule is not valid', { errors });
  return {
    name: b.name,
    enabled: b.enabled ?? true,
    sensorTypeId: b.sensorTypeId ?? null,
    assetId: b.assetId ?? null,
    sensorId: b.sensorId ?? null,
    detectors: b.detectors,
    ruleIds: b.ruleIds ?? null,
    action: b.action ?? 'raise',
    severity: b.severity ?? null,
    minScore: b.minScore ?? 0,
    delayS: b.delayS ?? 0,
    minOccurrences,
    withinS,
    autoClear,
    quietS,
  };
}

/** Alarm rules: which detector output becomes which alarm (CRUD, audited), defaults, and what applies to a sensor. */
export async function alarmRuleRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const { db } = services.database;
  const tags = ['alarms'];
  const Params = Type.Object({ id: Uuid }, { additionalProperties: false });

  app.get(
    '/alarm-rules',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: {
        tags,
        summary: 'Alarm rules, oldest first',
        querystring: Type.Object(
          {
            sensorTypeId: Type.Optional(Uuid),
            assetId: Type.Optional(Uuid),
            sensorId: Type.Optional(Uuid),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(RuleSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const m = keysetCursor(q.cursor, /^(\d+):(.+)$/);
      const limit = q.limit ?? 100;
      const items = await listRules(db, request.principal!.tenantId, {
        ...(q.sensorTypeId ? { sensorTypeId: q.sensorTypeId } : {}),
        ...(q.assetId ? { assetId: q.assetId } : {}),
        ...(q.sensorId ? { sensorId: q.sensorId } : {}),
        ...(m ? { after: { createdAt: Number(m[0]), id: m[1]! } } : {}),
        limit,
      });
      const last = items[items.length - 1];
      return {
        items: items.map(present),
        nextCursor: items.length === limit && last ? encodeCursor(`${last.createdAt}:${last.id}`) : null,
      };
    },
  );

  app.get(
    '/alarm-rules/defaults',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: {
        tags,
        summary: 'What applies where no alarm rule does (built in)',
        response: { 200: Type.Object({ items: Type.Array(PolicySchema) }) },
      },
    },
    async () => ({ items: SHOWN.map((d) => presentPolicy(d, defaultPolicy(d))) }),
  );

  app.get(
    '/alarm-rules/:id',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: { tags, params: Params, response: { 200: RuleSchema } },
    },
    async (request) => {
      const r = await findRule(db, request.principal!.tenantId, request.params.id);
      if (!r) throw new AppError('NOT_FOUND', 'No such alarm rule');
      return present(r);
    },
  );

  app.post(
    '/alarm-rules',
    {
      config: { auth: 'principal', permission: 'alarms:manage' },
      schema: {
        tags,
        summary: 'Create an alarm rule',
        body: RuleBody,
        response: { 201: RuleSchema },
      },
    },
    async (request, reply) => {
      const tenantId = request.principal!.tenantId;
      const input = await checked(db, tenantId, request.body);
      const rule = await insertRule(db, tenantId, input, auditContext(request).actorId ?? null, Date.now());
      await recordAudit(services, {
        ...auditContext(request),
        action: 'alarm-rule.create',
        outcome: 'success',
        targetType: 'alarm-rule',
        targetId: rule.id,
        details: { rule: input },
      });
      return reply.code(201).send(present(rule));
    },
  );

  app.put(
    '/alarm-rules/:id',
    {
      config: { auth: 'principal', permission: 'alarms:manage' },
      schema: {
        tags,
        summary: 'Replace an alarm rule (alarms already raised keep the policy they were raised under)',
        params: Params,
        body: RuleBody,
        response: { 200: RuleSchema },
      },
    },
    async (request) => {
      const tenantId = request.principal!.tenantId;
      const before = await findRule(db, tenantId, request.params.id);
      if (!before) throw new AppError('NOT_FOUND', 'No such alarm rule');
      const input = await checked(db, tenantId, request.body);
      const rule = await replaceRule(db, tenantId, before.id, input, Date.now());
      if (!rule) throw new AppError('NOT_FOUND', 'No such alarm rule');
      await recordAudit(services, {
        ...auditContext(request),
        action: 'alarm-rule.update',
        outcome: 'success',
        targetType: 'alarm-rule',
        targetId: rule.id,
        details: { before: { ...before, createdAt: undefined }, after: input },
      });
      return present(rule);
    },
  );

  app.delete(
    '/alarm-rules/:id',
    {
      config: { auth: 'principal', permission: 'alarms:manage' },
      schema: { tags, params: Params },
    },
    async (request, reply) => {
      const tenantId = request.principal!.tenantId;
      const before = await findRule(db, tenantId, request.params.id);
      if (!before || !(await deleteRule(db, tenantId, before.id)))
        throw new AppError('NOT_FOUND', 'No such alarm rule');
      await recordAudit(services, {
        ...auditContext(request),
        action: 'alarm-rule.delete',
        outcome: 'success',
        targetType: 'alarm-rule',
        targetId: before.id,
        details: { before: { ...before, createdAt: undefined } },
      });
      return reply.code(204).send();
    },
  );

  app.get(
    '/sensors/:id/alarm-rules/effective',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: {
        tags,
        summary: "What becomes of each detector's output for this sensor, and which rule decides it",
        params: Params,
        response: {
          200: Type.Object({
            sensorId: Type.String(),
            items: Type.Array(PolicySchema),
            /** Enabled rules in scope that apply to some detector rules only (by rule id). */
            byRuleId: Type.Array(RuleSchema),
          }),
        },
      },
    },
    async (request) => {
      const tenantId = request.principal!.tenantId;
      const sensor = await db
        .selectFrom('sensors')
        .select(['id', 'type_id', 'asset_id'])
        .where('tenant_id', '=', tenantId)
        .where('id', '=', request.params.id)
        .executeTakeFirst();
      if (!sensor) throw new AppError('NOT_FOUND', 'No such sensor');
      const rules = await listRules(db, tenantId, { limit: 10_000 });
      const subject = (detector: string) => ({
        sensorId: sensor.id,
        sensorTypeId: sensor.type_id,
        assetId: sensor.asset_id,
        detector,
        ruleId: null,
      });
      const inScope = (r: AlarmRule) =>
        r.enabled &&
        r.ruleIds !== null &&
        (r.sensorId ?? sensor.id) === sensor.id &&
        (r.assetId ?? sensor.asset_id) === sensor.asset_id &&
        (r.sensorTypeId ?? sensor.type_id) === sensor.type_id;
      return {
        sensorId: sensor.id,
        items: SHOWN.filter((d) => d !== 'asset-rule').map((d) =>
          presentPolicy(d, policyFor(rules, subject(d))),
        ),
        byRuleId: rules.filter(inScope).map(present),
      };
    },
  );
}
