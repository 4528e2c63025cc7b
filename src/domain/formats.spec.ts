import { addressLines, amountInWords, countryName, formatDate, formatMoney, formatRate } from './formats';

describe('formatDate', () => {
  it('writes a calendar date in the one style of each locale', () => {
    expect(formatDate('2026-11-23', 'en')).toBe('23 November 2026');
    expect(formatDate('2026-11-23', 'zh-CN')).toBe('2026年11月23日');
    expect(formatDate('2026-01-01', 'en')).toBe('1 January 2026');
  });

  it('refuses what is not a YYYY-MM-DD date', () => {
    expect(() => formatDate('23/11/2026', 'en')).toThrow(RangeError);
  });
});

describe('formatMoney', () => {
  it.each([
    ['1250', 'EUR', 'en', '€1,250.00'],
    ['1250.5', 'GBP', 'en', '£1,250.50'],
    ['1250.00', 'CNY', 'zh-CN', '¥1,250.00'],
    ['1250', 'JPY', 'en', 'JP¥1,250'],
    ['1.250', 'KWD', 'en', 'KWD 1.250'],
  ] as const)('formats %s %s in %s as %s', (amount, currency, locale, expected) => {
    expect(formatMoney(amount, currency, locale).replace(/\u00a0/g, ' ')).toBe(expected);
  });

  it('never rounds an amount away, and stays exact beyond float precision', () => {
    expect(formatMoney('1250.5', 'JPY', 'en')).toBe('JP¥1,250.5');
    expect(formatMoney('9007199254740993.01', 'EUR', 'en')).toBe('€9,007,199,254,740,993.01');
  });
});

describe('formatRate', () => {
  it('prints a daily rate as a percentage', () => {
    expect(formatRate('0.0004', 'en')).toBe('0.04 %');
    expect(formatRate('0.0004', 'zh-CN')).toBe('0.04%');
    expect(formatRate('0.000125', 'en')).toBe('0.0125 %');
  });
});

describe('amountInWords', () => {
  // Each line checked against the rules for writing amounts in capitals on payment instruments
  // (支付结算办法, 附件一): 整 after a whole 元; 零 for each run of zeros inside the number and
  // before a lone 分; no 整 after 角 or 分.
  it.each([
    ['0', '人民币零元整'],
    ['0.05', '人民币伍分'],
    ['0.10', '人民币壹角'],
    ['0.5', '人民币伍角'],
    ['1', '人民币壹元整'],
    ['10', '人民币壹拾元整'],
    ['10.5', '人民币壹拾元伍角'],
    ['30.07', '人民币叁拾元零柒分'],
    ['100.01', '人民币壹佰元零壹分'],
    ['1002.03', '人民币壹仟零贰元零叁分'],
    ['1010.10', '人民币壹仟零壹拾元壹角'],
    ['1250.50', '人民币壹仟贰佰伍拾元伍角'],
    ['1258.50', '人民币壹仟贰佰伍拾捌元伍角'],
    ['10000.00', '人民币壹万元整'],
    ['88000.5', '人民币捌万捌仟元伍角'],
    ['100000', '人民币壹拾万元整'],
    ['105000', '人民币壹拾万伍仟元整'],
    ['600100.4', '人民币陆拾万零壹佰元肆角'],
    ['99999999.99', '人民币玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分'],
    ['100000000', '人民币壹亿元整'],
    ['200000001', '人民币贰亿零壹元整'],
    ['1234567890.12', '人民币壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元壹角贰分'],
  ])('writes %s CNY as %s', (amount, words) => {
    expect(amountInWords(amount, 'CNY')).toBe(words);
  });

  it('names another currency in Chinese, and has no capitals for a currency without 元角分', () => {
    expect(amountInWords('12.5', 'EUR')).toBe('欧元壹拾贰元伍角');
    expect(amountInWords('12', 'JPY')).toBe('日元壹拾贰元整');
    expect(amountInWords('1.234', 'KWD')).toBeNull();
  });
});

describe('countryName', () => {
  it('names a country in the letter locale, and keeps a code it does not know', () => {
    expect(countryName('DE', 'en')).toBe('Germany');
    expect(countryName('DE', 'zh-CN')).toBe('德国');
    expect(countryName('XX', 'en')).toBe('XX');
  });
});

describe('addressLines', () => {
  it("lays a German address out as the Deutsche Post does, with the country's name", () => {
    const berlin = { line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' };
    expect(addressLines(berlin, 'en')).toEqual(['Unter den Linden 1', '10117 Berlin', 'Germany']);
    expect(addressLines(berlin, 'zh-CN')).toEqual(['Unter den Linden 1', '10117 Berlin', '德国']);
  });

  it('lays a British address out with the postcode on its own line', () => {
    expect(addressLines({ line1: '12 Ockham Road', city: 'London', postalCode: 'SW1A 1AA', country: 'gb' }, 'en')).toEqual([
      '12 Ockham Road',
      'London',
      'SW1A 1AA',
      'United Kingdom',
    ]);
  });

  it('orders a Chinese address in a Chinese letter from the largest unit to the smallest, postcode last', () => {
    expect(addressLines({ line1: '建国路88号 3号楼1201室', district: '朝阳区', city: '北京市', postalCode: '100022' }, 'zh-CN')).toEqual([
      '北京市朝阳区',
      '建国路88号 3号楼1201室',
      '邮编 100022',
    ]);
    expect(addressLines({ line1: '建国路88号', city: '北京市', country: 'CN' }, 'zh-CN')).toEqual(['中国', '北京市', '建国路88号']);
  });

  it('keeps keys it does not know, and a country written out in full', () => {
    expect(
      addressLines({ line1: 'Main Street 1', careOf: 'c/o Finance', city: 'Springfield', region: 'IL', postalCode: '62701', country: 'US' }, 'en'),
    ).toEqual(['Main Street 1', 'Springfield, IL 62701', 'c/o Finance', 'United States']);
    expect(addressLines({ line1: 'Rue de Rivoli 1', city: 'Paris', postalCode: '75001', country: 'France' }, 'en').at(-1)).toBe('France');
  });
});
