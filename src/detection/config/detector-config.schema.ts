import { type Static, Type } from 'typebox';

const strict = { additionalProperties: false } as const;
const Seconds = (max = 30 * 86_400) => Type.Number({ minimum: 0, maximum: max });
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });
export const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
const Severity = Type.Union([
  Type.Literal('critical'),
  Type.Literal('major'),
  Type.Literal('minor'),
  Type.Literal('warning'),
  Type.Literal('info'),
]);

/**
 * A threshold with hysteresis and a duration: "below 2.0 for 300 s, clears above 2.3". It raises
 * once the condition has held from a first violating reading to one at least `forS` later, and
 * clears once the value has been past `clear` (default: `value`) for `clearForS`.
 */
export const ThresholdRuleSchema = Type.Object(
  {
    id: Id,
    when: Type.Union([Type.Literal('above'), Type.Literal('below')]),
    value: Type.Number(),
    clear: Type.Optional(Type.Number()),
    forS: Type.Optional(Seconds()),
    clearForS: Type.Optional(Seconds()),
    severity: Type.Optional(Severity),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  strict,
);

/** One sensor's condition inside an asset rule (the sensor named by its key). */
const ConditionSchema = Type.Object(
  {
    sensor: Type.String({ minLength: 1, maxLength: 128 }),
    when: Type.Union([Type.Literal('above'), Type.Literal('below')]),
    value: Type.Number(),
    clear: Type.Optional(Type.Number()),
    forS: Type.Optional(Seconds()),
    clearForS: Type.Optional(Seconds()),
  },
  strict,
);

/** Conditions on several sensors of one asset combined with AND or OR. */
export const AssetRuleSchema = Type.Object(
  {
    id: Id,
    op: Type.Union([Type.Literal('and'), Type.Literal('or')]),
    conditions: Type.Array(ConditionSchema, { minItems: 1, maxItems: 16 }),
    severity: Type.Optional(Severity),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  strict,
);

const Toggle = { enabled: Type.Optional(Type.Boolean()) };
/** The normalised deviation at which a statistical detector fires. */
const Z = Type.Optional(Type.Number({ minimum: 1, maximum: 100 }));
const Alpha = Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 }));

/**
 * The detector document of a sensor type, an asset or one sensor (an override: only what it
 * names replaces the sensor type's). Every field is optional; defaults fill the rest.
 */
export const DetectorConfigSchema = Type.Object(
  {
    /** Ensemble score (0–1) at or above which a reading is an anomaly. */
    threshold: Type.Optional(Type.Number({ minimum: 0.05, maximum: 1 })),
    /** Readings a sensor must have before its statistical detectors may fire. */
    warmup: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    rules: Type.Optional(Type.Array(ThresholdRuleSchema, { maxItems: 32 })),
    rateOfChange: Type.Optional(
      Type.Object({ ...Toggle, maxPerS: Type.Optional(Type.Number({ exclusiveMinimum: 0 })), z: Z }, strict),
    ),
    flatline: Type.Optional(
      Type.Object(
        {
          ...Toggle,
          minDurationS: Type.Optional(Seconds()),
          minReadings: Type.Optional(Type.Integer({ minimum: 2, maximum: 1_000_000 })),
          tolerance: Type.Optional(Type.Number({ minimum: 0 })),
        },
        strict,
      ),
    ),
    heartbeat: Type.Optional(
      Type.Object(
        {
          ...Toggle,
          /** Silence of k × the expected interval is a gap. */
          k: Type.Optional(Type.Number({ minimum: 1.5, maximum: 1000 })),
          /** Fixed expected interval; learned from arrivals when absent. */
          expectedIntervalS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 30 * 86_400 })),
        },
        strict,
      ),
    ),
    ewma: Type.Optional(Type.Object({ ...Toggle, alpha: Alpha, z: Z }, strict)),
    mad: Type.Optional(
      Type.Object(
        { ...Toggle, window: Type.Optional(Type.Integer({ minimum: 8, maximum: 256 })), z: Z },
        strict,
      ),
    ),
    /** A sustained shift: the mean of the last few readings against a slow baseline. */
    shift: Type.Optional(
      Type.Object(
        {
          ...Toggle,
          /** Readings averaged (at most the MAD window). */
          window: Type.Optional(Type.Integer({ minimum: 2, maximum: 256 })),
          /** Weight of a reading in the slow baseline. */
          alpha: Alpha,
          z: Z,
        },
        strict,
      ),
    ),
    /** A value outside everything the sensor has reported, by more than a share of that range. */
    range: Type.Optional(
      Type.Object({ ...Toggle, tolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 10 })) }, strict),
    ),
    /**
     * The ensemble: each statistical detector's score is judged against that detector's own history
     * on this sensor (an anomaly likelihood), so a noisy sensor does not fire more than a quiet one.
     */
    likelihood: Type.Optional(
      Type.Object(
        {
          ...Toggle,
          /** Readings whose scores are averaged before they are judged. */
          window: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
          /** Readings of score history a detector needs before it is judged by it (until then, by its own z). */
          learn: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
          /** Horizon (readings) of the score history. */
          history: Type.Optional(Type.Integer({ minimum: 10, maximum: 10_000_000 })),
          /** Standard deviations above its usual level at which an averaged score fires. */
          z: Z,
          /** Readings after a point anomaly during which further ones are held below the threshold. */
          refractory: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
        },
        strict,
      ),
    ),
    seasonal: Type.Optional(
      Type.Object(
        {
          ...Toggle,
          /** Hour-of-day profile, hour-of-week profile, or both (a reading must be unusual in both). */
          period: Type.Optional(
            Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('day+week')]),
          ),
          alpha: Alpha,
          z: Z,
          /** Offset of local time from UTC, so hour-of-day buckets follow the site's day. */
          utcOffsetMin: Type.Optional(Type.Integer({ minimum: -840, maximum: 840 })),
        },
        strict,
      ),
    ),
    isolationForest: Type.Optional(
      Type.Object(
        {
          ...Toggle,
          trees: Type.Optional(Type.Integer({ minimum: 8, maximum: 512 })),
          sampleSize: Type.Optional(Type.Integer({ minimum: 16, maximum: 4096 })),
          /** Isolation score (0.5 typical, 1 most isolated) at which it fires. */
          fireAt: Type.Optional(Type.Number({ minimum: 0.5, maximum: 1 })),
          trainWindowDays: Type.Optional(Type.Number({ minimum: 0.01, maximum: 365 })),
        },
        strict,
      ),
    ),
    /** Asset documents only: conditions across the asset's sensors. */
    assetRules: Type.Optional(Type.Array(AssetRuleSchema, { maxItems: 32 })),
  },
  strict,
);

export type DetectorConfigDoc = Static<typeof DetectorConfigSchema>;
export type ThresholdRuleDoc = Static<typeof ThresholdRuleSchema>;
export type AssetRuleDoc = Static<typeof AssetRuleSchema>;
export type Severity = (typeof SEVERITIES)[number];
