import { validateEvent, type Validated } from './event-validation';

type Rejected = Extract<Validated, { ok: false }>;

/** The validator's clock: after every instant the fixtures report as past. */
const NOW = new Date('2026-11-23T12:00:00Z');

function overdue(overrides: { invoice?: Record<string, unknown>; debtor?: Record<string, unknown>; data?: Record<string, unknown> } = {}) {
  return {
    id: 'evt-0001',
    type: 'invoice.overdue',
    occurredAt: '2026-11-02T08:00:00Z',
    data: {
      invoice: { externalId: 'INV-1', contractRef: 'C-9', currency: 'EUR', amountDue: '1250.00', dueDate: '2026-11-01', ...overrides.invoice },
      debtor: { externalId: 'D-1', name: 'Ada Lovelace', email: 'ada@example.com', locale: 'en', timezone: 'Europe/Berlin', ...overrides.debtor },
      segment: 'first-time',
      ...overrides.data,
    },
  };
}

function payment(overrides: Record<string, unknown> = {}) {
  return {
    id: 'evt-0002',
    type: 'payment.received',
    occurredAt: '2026-11-05T10:30:00+01:00',
    data: { invoiceExternalId: 'INV-1', paymentId: 'PAY-1', amount: '1250.00', currency: 'EUR', paidAt: '2026-11-05T10:00:00+01:00', ...overrides },
  };
}

function rejection(raw: unknown): Rejected {
  const result = validateEvent(raw, NOW);
  if (result.ok) throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
  return result;
}

/** Asserts the rejection names `field` in both the details and the error text. */
function expectRejected(raw: unknown, field: string): Rejected {
  const result = rejection(raw);
  expect(result.details.map((detail) => detail.field)).toContain(field);
  expect(result.error).toContain(`${field}: `);
  return result;
}

describe('validateEvent', () => {
  describe('what the database could not store', () => {
    it.each([
      ['NUL in a name', { debtor: { name: 'Ada\u0000' } }, 'data.debtor.name'],
      ['a lone surrogate in an external id', { debtor: { externalId: 'D-\uD800' } }, 'data.debtor.externalId'],
      ['a lone trailing surrogate in an address line', { debtor: { address: { line1: '\uDC00 Road' } } }, 'data.debtor.address.line1'],
      ['an amount beyond a bigint of minor units', { invoice: { amountDue: '9999999999999999.999', currency: 'KWD' } }, 'data.invoice.amountDue'],
      ['a due date in the year 9999', { invoice: { dueDate: '9999-12-31' } }, 'data.invoice.dueDate'],
      ['a due date in the year 0', { invoice: { dueDate: '0000-01-01T00:00:00Z' } }, 'data.invoice.dueDate'],
      ['a contract date in 1899', { invoice: { contractDate: '1899-12-31' } }, 'data.invoice.contractDate'],
    ])('refuses %s, naming the field', (_what, overrides, field) => {
      expectRejected(overdue(overrides), field);
    });

    it('keeps a real character outside the basic plane (a surrogate pair)', () => {
      expect(validateEvent(overdue({ debtor: { name: '𠀀 Debtor' } }), NOW).ok).toBe(true);
    });

    it('refuses a guarantee period of a million years', () => {
      expectRejected(
        overdue({ data: { guarantors: [{ externalId: 'G-1', name: 'Gus', guaranteePeriod: 'P1000000Y' }] } }),
        'data.guarantors[0].guaranteePeriod',
      );
    });
  });

  describe('invoice.overdue', () => {
    it('accepts a valid event and returns it parsed', () => {
      const raw = overdue();
      const result = validateEvent(raw, NOW);
      expect(result).toEqual({ ok: true, event: raw });
    });

    it('accepts a due date given as an instant with an offset', () => {
      expect(validateEvent(overdue({ invoice: { dueDate: '2026-11-01T23:59:59+08:00' } }), NOW).ok).toBe(true);
    });

    it('accepts the minimal set of fields', () => {
      const raw = {
        id: 'evt-min',
        type: 'invoice.overdue',
        occurredAt: '2026-11-02T08:00:00Z',
        data: { invoice: { externalId: 'INV-1', currency: 'JPY', amountDue: '100', dueDate: '2026-11-01' }, debtor: { externalId: 'D-1', name: 'A' } },
      };
      expect(validateEvent(raw, NOW).ok).toBe(true);
    });

    it('trims text fields', () => {
      const result = validateEvent(overdue({ debtor: { name: '  Ada  ' } }), NOW);
      expect(result.ok && result.event.type === 'invoice.overdue' && result.event.data.debtor.name).toBe('Ada');
    });

    it.each(['EURO', 'usd', 'XYZ', ''])('rejects the currency %p naming data.invoice.currency', (currency) => {
      expectRejected(overdue({ invoice: { currency } }), 'data.invoice.currency');
    });

    it.each(['-5.00', 'abc', '1,250.00', '1e3', '', '01.00'])('rejects the amount %p naming data.invoice.amountDue', (amountDue) => {
      expectRejected(overdue({ invoice: { amountDue } }), 'data.invoice.amountDue');
    });

    it('rejects an amount sent as a JSON number, naming data.invoice.amountDue', () => {
      const result = expectRejected(overdue({ invoice: { amountDue: 125.5 } }), 'data.invoice.amountDue');
      expect(result.error).toMatch(/decimal string/);
    });

    it.each([
      ['0.001', 'EUR'],
      ['100.5', 'JPY'],
      ['1.2345', 'KWD'],
    ])('rejects %s %s (too many decimals for the currency), naming data.invoice.amountDue', (amountDue, currency) => {
      const result = expectRejected(overdue({ invoice: { amountDue, currency } }), 'data.invoice.amountDue');
      expect(result.error).toContain(currency);
    });

    it('accepts the full number of decimals for the currency', () => {
      expect(validateEvent(overdue({ invoice: { amountDue: '1.234', currency: 'KWD' } }), NOW).ok).toBe(true);
    });

    it.each(['0', '0.00'])('rejects a zero amount %p', (amountDue) => {
      expectRejected(overdue({ invoice: { amountDue } }), 'data.invoice.amountDue');
    });

    it('rejects a missing debtor, naming data.debtor', () => {
      const raw = overdue();
      delete (raw.data as Partial<typeof raw.data>).debtor;
      expectRejected(raw, 'data.debtor');
    });

    it('rejects a debtor without a name, naming data.debtor.name', () => {
      expectRejected(overdue({ debtor: { name: '   ' } }), 'data.debtor.name');
    });

    it.each(['Mars/Base', 'CEST', 'Europe/Berlinn'])('rejects the unknown time zone %p, naming data.debtor.timezone', (timezone) => {
      expectRejected(overdue({ debtor: { timezone } }), 'data.debtor.timezone');
    });

    it('rejects a bad email, naming data.debtor.email', () => {
      expectRejected(overdue({ debtor: { email: 'not-an-email' } }), 'data.debtor.email');
    });

    it.each(['2026-02-30', '2026-13-01', '2026-11-1', '01.11.2026', '2026-11-01T10:00:00'])(
      'rejects the due date %p, naming data.invoice.dueDate',
      (dueDate) => {
        expectRejected(overdue({ invoice: { dueDate } }), 'data.invoice.dueDate');
      },
    );

    it('rejects an unknown extra field in data, naming it', () => {
      const result = rejection(overdue({ data: { colour: 'red' } }));
      expect(result.error).toMatch(/^data: .*colour/);
    });

    it('rejects an unknown extra field in the invoice, naming it', () => {
      const result = rejection(overdue({ invoice: { discount: '5.00' } }));
      expect(result.details).toEqual([expect.objectContaining({ field: 'data.invoice' })]);
      expect(result.error).toContain('discount');
    });

    it('rejects an unknown extra field in the envelope, naming it', () => {
      const result = rejection({ ...overdue(), source: 'erp' });
      expect(result.error).toContain('source');
    });

    it('names every bad field at once', () => {
      const result = rejection(overdue({ invoice: { currency: 'EURO', dueDate: '2026-02-30' }, debtor: { timezone: 'Mars/Base' } }));
      expect(result.details.map((detail) => detail.field).sort()).toEqual(['data.debtor.timezone', 'data.invoice.currency', 'data.invoice.dueDate']);
    });

    it('keeps the event id in the rejection', () => {
      expect(rejection(overdue({ invoice: { currency: 'EURO' } })).id).toBe('evt-0001');
    });
  });

  describe('envelope', () => {
    it('rejects an unknown event type, naming type', () => {
      const result = expectRejected({ ...overdue(), type: 'invoice.paid' }, 'type');
      expect(result.details).toHaveLength(1);
      expect(result.error).toContain('"invoice.paid"');
      expect(result.id).toBe('evt-0001');
    });

    it('refuses a __proto__ key, which parsing would otherwise drop in silence', () => {
      const raw = JSON.parse(JSON.stringify(overdue()).replace('"debtor":{', '"debtor":{"__proto__":{"admin":true},')) as unknown;
      const result = expectRejected(raw, 'data.debtor.__proto__');
      expect(result.error).toContain('a __proto__ key is refused');
    });

    it('quotes only the start of a huge unknown type', () => {
      const result = expectRejected({ ...overdue(), type: 'x'.repeat(1_000_000) }, 'type');
      expect(result.error.length).toBeLessThan(400);
      expect(result.error).toContain(`"${'x'.repeat(60)}…"`);
    });

    it('rejects a missing occurredAt and one without an offset, naming occurredAt', () => {
      const { occurredAt: _omitted, ...withoutOccurredAt } = overdue();
      expectRejected(withoutOccurredAt, 'occurredAt');
      expectRejected({ ...overdue(), occurredAt: '2026-11-02T08:00:00' }, 'occurredAt');
      expectRejected({ ...overdue(), occurredAt: '2026-11-02' }, 'occurredAt');
    });

    it('rejects an id with spaces, naming id', () => {
      expectRejected({ ...overdue(), id: 'evt 1' }, 'id');
    });

    it('rejects data that is not an object, naming data', () => {
      expectRejected({ ...overdue(), data: 'x' }, 'data');
    });

    it.each([null, undefined, 'string', 42, []])('rejects the non-object %p with a null id', (raw) => {
      const result = rejection(raw);
      expect(result.id).toBeNull();
      expect(result.details.length).toBeGreaterThan(0);
    });
  });

  describe('payment.received', () => {
    it('accepts a valid payment and returns it parsed', () => {
      const raw = payment();
      expect(validateEvent(raw, NOW)).toEqual({ ok: true, event: raw });
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['a lowercase currency', { currency: 'eur' }, 'data.currency'],
      ['a negative amount', { amount: '-1.00' }, 'data.amount'],
      ['a numeric amount', { amount: 12 }, 'data.amount'],
      ['too many decimals', { amount: '12.345' }, 'data.amount'],
      ['a zero amount', { amount: '0.00' }, 'data.amount'],
      ['paidAt without a time', { paidAt: '2026-11-05' }, 'data.paidAt'],
      ['paidAt without an offset', { paidAt: '2026-11-05T10:00:00' }, 'data.paidAt'],
      ['paidAt in the future', { paidAt: '2026-11-24T12:00:00Z' }, 'data.paidAt'],
      ['a missing paymentId', { paymentId: undefined }, 'data.paymentId'],
      ['an empty invoiceExternalId', { invoiceExternalId: '' }, 'data.invoiceExternalId'],
    ])('rejects %s', (_label, overrides, field) => {
      expectRejected(payment(overrides), field);
    });

    it('rejects an unknown extra field, naming it', () => {
      expect(rejection(payment({ method: 'card' })).error).toContain('method');
    });

    it('allows a few minutes of clock skew, no more', () => {
      expect(validateEvent(payment({ paidAt: '2026-11-23T12:04:59Z' }), NOW).ok).toBe(true);
      expect(rejection(payment({ paidAt: '2026-11-23T12:05:01Z' })).error).toBe('data.paidAt: must not be in the future (now is 2026-11-23T12:00:00.000Z)');
    });

    it('accepts a JPY payment without decimals and rejects one with decimals', () => {
      expect(validateEvent(payment({ currency: 'JPY', amount: '5000' }), NOW).ok).toBe(true);
      expectRejected(payment({ currency: 'JPY', amount: '5000.5' }), 'data.amount');
    });
  });

  describe('acknowledgment.signed', () => {
    const ack = (signedAt: string) => ({
      id: 'evt-ack',
      type: 'acknowledgment.signed',
      occurredAt: '2026-11-23T10:00:00Z',
      data: { invoiceExternalId: 'INV-1', signedAt },
    });

    it('accepts a signature in the past and refuses one in the future, naming the field', () => {
      expect(validateEvent(ack('2026-11-20T10:00:00+08:00'), NOW).ok).toBe(true);
      expectRejected(ack('2026-12-01T10:00:00+08:00'), 'data.signedAt');
    });
  });
});
