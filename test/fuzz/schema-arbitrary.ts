import fc from 'fast-check';
import type { JsonSchema } from './openapi-model';
import {
  deepNesting,
  hostileAmount,
  hostileCurrency,
  hostileDate,
  hostileDuration,
  hostileKey,
  hostileLocale,
  hostileNumber,
  hostileString,
  hostileTimeZone,
  largeArrayOf,
  wrongType,
} from './hostile';
import { Fresh, Instant, Pooled, Raw, Repeat, setKey } from './values';

/**
 * JSON Schema → fast-check. `wellShaped` builds values the schema accepts, with realistic content
 * where a field's name says what it holds (a string schema alone cannot say "a time zone" or
 * "an invoice this service knows"); `mutated` breaks them in one to three places.
 */

const DAY = 86_400_000;
const pastInstant = fc.integer({ min: -90 * DAY, max: -60_000 }).map((offset) => new Instant(offset, 'instant'));
const pastDate = fc.integer({ min: -90, max: -1 }).map((days) => new Instant(days * DAY, 'date'));
const futureDate = fc.integer({ min: 2, max: 120 }).map((days) => new Instant(days * DAY, 'date'));
const words = fc.constantFrom('Ana Debtor', 'Li Wei', 'Zoë Ångström', 'O’Brien & Sons', '王小明', 'posted by ERP', 'customer called', 'x');
const amount = fc.oneof(
  fc.constantFrom('1250.00', '100.00', '0.01', '5', '99.99', '15.00', '1'),
  fc.integer({ min: 1, max: 500_000 }).map((cents) => (cents / 100).toFixed(2)),
);
const pooledOrFresh = (pool: ConstructorParameters<typeof Pooled>[0], prefix: string) =>
  fc.oneof({ weight: 4, arbitrary: fc.nat().map((i) => new Pooled(pool, i, `${prefix}-none`)) }, { weight: 1, arbitrary: fc.constant(new Fresh(prefix)) });

/** Well-shaped content for a field, by its name and where it sits; undefined where the schema alone decides. */
function byName(name: string, parents: string[], schema: JsonSchema): fc.Arbitrary<unknown> | undefined {
  if (schema.enum || schema.type === 'array' || schema.type === 'object' || schema.type === 'boolean' || schema.type === 'integer') return undefined;
  const parent = parents[parents.length - 1];
  switch (name) {
    case 'currency':
      return fc.constantFrom('EUR', 'EUR', 'EUR', 'EUR', 'USD', 'JPY', 'KWD', 'CNY', 'GBP');
    case 'amount':
    case 'amountDue':
    case 'minAmount':
      return amount;
    case 'timezone':
      return fc.constantFrom('Europe/Berlin', 'Asia/Shanghai', 'UTC', 'America/New_York', 'Australia/Sydney');
    case 'locale':
      return fc.constantFrom('en', 'zh-CN', 'de', 'en-GB');
    case 'email':
      return fc.nat({ max: 10_000 }).map((n) => `debtor${n}@example.test`);
    case 'phone':
      return fc.constantFrom('+4915112345678', '+86 138 0013 8000', '(030) 1234567');
    case 'occurredAt':
    case 'paidAt':
    case 'signedAt':
    case 'at':
      return pastInstant;
    case 'from':
    case 'to':
    case 'since':
      return fc.oneof(pastInstant, pastDate);
    case 'dueDate':
      // An invoice fell due in the past; a promise or an instalment is due in the future.
      return parent === 'invoice' ? fc.oneof(pastDate, pastInstant) : futureDate;
    case 'asOf':
    case 'contractDate':
    case 'limitationBefore':
      return pastDate;
    case 'guaranteePeriod':
      return fc.constantFrom('P1Y', 'P6M', 'P2Y');
    case 'deadline':
      return fc.constantFrom('P14D', 'P7D', 'P30D');
    case 'lateFeeRatePerDay':
      return fc.constantFrom('0.0004', '0.001', '0');
    case 'jurisdiction':
      return fc.constantFrom('DE', 'CN', 'GB', 'US');
    case 'invoiceExternalId':
      return pooledOrFresh('invoice', 'INV');
    case 'paymentId':
      return fc.oneof(
        { weight: 4, arbitrary: fc.constant(new Fresh('PAY')) },
        { weight: 1, arbitrary: fc.nat().map((i) => new Pooled('paymentId', i, 'PAY-none')) },
      );
    case 'externalId':
      if (parent === 'invoice') return fc.constant(new Fresh('INV'));
      if (parent === 'debtor')
        return fc.oneof(
          fc.constant(new Fresh('DEB')),
          fc.nat().map((i) => new Pooled('debtor', i, 'DEB-none')),
        );
      return fc.constant(new Fresh('GUA'));
    case 'id':
      // The event envelope's id: new, or one already sent (a duplicate).
      return fc.oneof(
        { weight: 5, arbitrary: fc.constant(new Fresh('evt')) },
        { weight: 1, arbitrary: fc.nat().map((i) => new Pooled('eventId', i, 'evt-none')) },
      );
    case 'policy':
      return fc.constantFrom('quiet', 'quick', 'at-once', 'wilful', 'end-of-ladder', 'no-such-policy');
    case 'segment':
      return fc.constantFrom('quiet', 'first-time', 'repeat', 'at-once', 'b2b');
    case 'name':
    case 'reason':
    case 'note':
      return words;
    case 'carrier':
      return fc.constantFrom('DHL', 'Royal Mail', 'SF Express');
    case 'trackingNumber':
      return fc.stringMatching(/^[A-Z]{2}\d{9}[A-Z]{2}$/);
    case 'assignee':
      return fc.constantFrom('alice', 'bob', 'operator-key');
    case 'reference':
      return fc.uuid();
    case 'status':
      return parents.length === 0 ? fc.constantFrom('queued', 'posted', 'delivered') : undefined;
    default:
      if (parent === 'address') return fc.constantFrom('1 Main Street', 'Berlin', '10115', 'DE', 'GB', 'CN', '北京市朝阳区');
      return undefined;
  }
}

/** Two to six instalments a month apart, from next week, adding up to `totalCents`. */
function instalmentsOf(totalCents: number): fc.Arbitrary<unknown> {
  return fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 2, maxLength: 6 }).map((weights) => {
    const sum = weights.reduce((a, b) => a + b, 0);
    let left = totalCents;
    return weights.map((weight, i) => {
      const cents = i === weights.length - 1 ? left : Math.max(1, Math.floor((totalCents * weight) / sum));
      left -= cents;
      return { dueDate: new Instant((7 + 30 * i) * DAY, 'date'), amount: (cents / 100).toFixed(2) };
    });
  });
}

function compiles(pattern: string): RegExp | null {
  try {
    return new RegExp(pattern);
  } catch {
    return null;
  }
}

function stringOf(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'date') return pastDate;
  if (schema.format === 'email') return fc.nat({ max: 10_000 }).map((n) => `someone${n}@example.test`);
  const regex = schema.pattern ? compiles(schema.pattern) : null;
  if (regex) return fc.stringMatching(regex).filter((s) => s.length >= (schema.minLength ?? 0) && s.length <= (schema.maxLength ?? Infinity));
  const minLength = schema.minLength ?? 0;
  return fc.string({ unit: 'grapheme-ascii', minLength: Math.max(minLength, 1), maxLength: Math.min(schema.maxLength ?? 30, Math.max(minLength, 1) + 30) });
}

/** A value the schema accepts (field names permitting); `name` and `parents` locate it in the body. */
export function wellShaped(schema: JsonSchema, name = '', parents: string[] = []): fc.Arbitrary<unknown> {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return fc.oneof(...branches.map((branch) => wellShaped(branch, name, parents)));
  const named = byName(name, parents, schema);
  if (named) return named;
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'string':
      return stringOf(schema);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.min(schema.maxItems ?? minLength + 3, minLength + 3);
      const item = wellShaped(schema.items ?? {}, name, parents);
      if (name === 'paymentAllocation') return fc.shuffledSubarray(['costs', 'interest', 'principal'], { minLength: 3, maxLength: 3 });
      // A plan must add up to the balance: the seeded cases owe 1250.00, split in monthly instalments.
      if (name === 'instalments') return instalmentsOf(125_000);
      // Unique where the service wants them so (guarantors by externalId): Fresh tokens are unique by construction.
      return fc.array(item, { minLength, maxLength });
    }
    case 'object':
    case undefined: {
      const properties = schema.properties ?? {};
      const keys = Object.keys(properties);
      if (keys.length === 0 && typeof schema.additionalProperties === 'object') {
        const inner = schema.additionalProperties;
        if (name === 'address') {
          return fc.record(
            {
              line1: fc.constantFrom('1 Main Street', '88 Jianguo Road'),
              city: fc.constantFrom('Berlin', 'London', '北京'),
              country: fc.constantFrom('DE', 'GB', 'CN', 'US'),
            },
            { requiredKeys: ['line1'] },
          );
        }
        return fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), wellShaped(inner, '', [...parents, name]), { maxKeys: 3 });
      }
      if (keys.length === 0) return fc.constant({});
      const record = Object.fromEntries(keys.map((key) => [key, wellShaped(properties[key]!, key, name ? [...parents, name] : parents)]));
      return fc.record(record, { requiredKeys: (schema.required ?? []).filter((key) => keys.includes(key)) });
    }
    default:
      return fc.constant(null);
  }
}

type Path = (string | number)[];

/** Every place in a value a mutation can hit: the root, each property and each array item (tokens are leaves). */
function sitesOf(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (Array.isArray(value)) value.forEach((item, i) => sitesOf(item, [...path, i], out));
  else if (isPlainObject(value)) for (const key of Object.keys(value)) sitesOf(value[key], [...path, key], out);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null)
  );
}

/** A copy of the value with `edit` applied at `path`; `undefined` from `edit` removes the property or item. */
function editAt(value: unknown, path: Path, edit: (current: unknown) => unknown): unknown {
  if (path.length === 0) return edit(value);
  const [head, ...rest] = path;
  if (Array.isArray(value) && typeof head === 'number') {
    const copy = [...value];
    if (rest.length > 0 && head >= copy.length) return value;
    const next = editAt(copy[head], rest, edit);
    if (next === undefined && rest.length === 0) copy.splice(head, 1);
    else copy[head] = next;
    return copy;
  }
  if (isPlainObject(value) && typeof head === 'string') {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) setKey(copy, key, value[key]);
    // An earlier mutation removed or replaced the way there: nothing to edit.
    if (rest.length > 0 && !Object.prototype.hasOwnProperty.call(copy, head)) return value;
    const next = editAt(copy[head], rest, edit);
    if (next === undefined && rest.length === 0) delete copy[head];
    else setKey(copy, head, next);
    return copy;
  }
  return value;
}

const generic = fc.oneof(hostileString, wrongType);

/** The hostile values that suit a field, by its name: a date field gets impossible dates, an amount a 40-digit one. */
function hostileFor(name: string | number | undefined): fc.Arbitrary<unknown> {
  switch (typeof name === 'string' ? name : '') {
    case 'amount':
    case 'amountDue':
    case 'minAmount':
    case 'lateFeeRatePerDay':
      return hostileAmount;
    case 'occurredAt':
    case 'paidAt':
    case 'signedAt':
    case 'at':
    case 'dueDate':
    case 'asOf':
    case 'contractDate':
    case 'from':
    case 'to':
    case 'since':
    case 'limitationBefore':
      return hostileDate;
    case 'guaranteePeriod':
    case 'deadline':
      return hostileDuration;
    case 'timezone':
      return hostileTimeZone;
    case 'currency':
      return hostileCurrency;
    case 'locale':
      return hostileLocale;
    case 'minDaysPastDue':
    case 'maxDaysPastDue':
    case 'limit':
      return hostileNumber;
    default:
      return generic;
  }
}

type Mutation = (value: unknown) => unknown;

function mutationAt(path: Path, current: unknown, rootName?: string): fc.Arbitrary<Mutation> {
  const last = path.length > 0 ? path[path.length - 1] : rootName;
  const options: fc.Arbitrary<Mutation>[] = [
    // The field's own traps, and any value of the wrong kind.
    hostileFor(last).map((hostile) => (v: unknown) => editAt(v, path, () => hostile)),
    wrongType.map((hostile) => (v: unknown) => editAt(v, path, () => hostile)),
  ];
  if (path.length > 0) options.push(fc.constant((v: unknown) => editAt(v, path, () => undefined)));
  if (isPlainObject(current)) {
    options.push(
      fc.tuple(hostileKey, wrongType).map(
        ([key, extra]) =>
          (v: unknown) =>
            editAt(v, path, (object) => {
              // An earlier mutation may have put something else here.
              if (!isPlainObject(object)) return object;
              const copy: Record<string, unknown> = {};
              for (const k of Object.keys(object)) setKey(copy, k, object[k]);
              setKey(copy, key, extra);
              return copy;
            }),
      ),
    );
  }
  if (Array.isArray(current)) {
    const sample: unknown = current[0] ?? null;
    options.push(largeArrayOf(sample).map((repeat) => (v: unknown) => editAt(v, path, () => repeat)));
  }
  if (current !== null && typeof current === 'object' && !(current instanceof Raw) && !(current instanceof Repeat)) {
    options.push(deepNesting.map((deep) => (v: unknown) => editAt(v, path, () => deep)));
  }
  return fc.oneof(...options);
}

/** The value broken in one to three places (a type, a trap value, a missing or extra key, a huge array, deep nesting). */
export function mutated(base: fc.Arbitrary<unknown>, name?: string): fc.Arbitrary<unknown> {
  return base.chain((value) => {
    // Fields with traps of their own (dates, amounts, zones…) are hit four times as often as the rest.
    const sites = sitesOf(value).flatMap((path) => {
      const last = path.length > 0 ? path[path.length - 1] : name;
      return hostileFor(last) === generic ? [path] : [path, path, path, path];
    });
    const one = fc.nat({ max: sites.length - 1 }).chain((i) => {
      const path = sites[i]!;
      return mutationAt(
        path,
        path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], value),
        name,
      );
    });
    return fc.array(one, { minLength: 1, maxLength: 3 }).map((mutations) => mutations.reduce((v, mutate) => mutate(v), value));
  });
}
