/**
 * The debtor's self-service page as HTML, in English or Chinese: the account, how to pay, and the
 * forms to promise, propose a plan and dispute. No script and no file besides the page: its style
 * is inline and allowed by its hash alone (SELF_SERVICE_POLICY).
 */
import { createHash } from 'node:crypto';
import Handlebars from 'handlebars';
import type { Locale } from '../channels/email/email-templates';
import type { PaymentRoute } from '../channels/creditor';
import { PLAN_MAX_PROPOSED } from '../domain/self-service';
import { SELF_SERVICE_FONT_FACES } from './self-service-fonts';

export interface SelfServiceView {
  locale: Locale;
  action: string;
  formToken: string;
  creditor: string;
  debtorName: string;
  invoiceRef: string;
  dueDate: string;
  status: string;
  open: boolean;
  principal: string;
  fees: string;
  totalDue: string;
  paid: string;
  /** What a promise may be for at the most: the balance, as the API takes it (e.g. "1250.50"). */
  balance: string;
  currency: string;
  /** The figures as the API states them (decimal strings), for the trail. */
  figures: { principal: string; fees: string; totalDue: string };
  payments: { date: string; amount: string }[];
  /** The case's letters to the debtor, each downloadable through the link. */
  letters: { id: string; number: string; date: string }[];
  payment: PaymentRoute;
  today: string;
  latestPromise: string;
  latestPromiseText: string;
  /** The policy's bounds of a plan the debtor may agree alone. */
  planMaxInstalments: number;
  latestPlanStartText: string;
  unsubscribeUrl: string;
  /** Reminder channels the debtor declined (the preferences form shows them unticked). */
  declinedChannels: readonly ('email' | 'sms')[];
  /** After a form: what happened (`status`, in the page's words) or what was wrong (`alert`). */
  message?:
    | { kind: 'status'; key: 'promised' | 'agreed' | 'proposed' | 'disputed' | 'preferences'; values: Record<string, unknown> }
    | { kind: 'alert'; problem: FormProblem };
}

/** What was wrong with a form: the service's own words (English), the code and the fields named. */
export interface FormProblem {
  code: 'validation' | 'not_found' | 'conflict' | 'unprocessable';
  text: string;
  fields: string[];
}

const CSS = `${SELF_SERVICE_FONT_FACES}*{box-sizing:border-box}body{font:16px/1.5 "Noto Sans SC",system-ui,sans-serif;margin:0;color:#1a1a1a;background:#f6f6f4}
main{max-width:40rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem;margin:.5rem 0 1rem}h2{font-size:1.1rem;margin:0 0 .5rem}
section{background:#fff;border:1px solid #d8d8d2;border-radius:8px;padding:1rem;margin:0 0 1rem}
dl{display:grid;grid-template-columns:1fr auto;gap:.25rem 1rem;margin:0}dt{color:#444}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
.total{font-weight:700}table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.25rem 0;border-bottom:1px solid #eee}td.n{text-align:right}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}input,select,textarea{width:100%;font:inherit;padding:.6rem;border:1px solid #888;border-radius:6px;background:#fff}
textarea{min-height:6rem}button,.pay{display:inline-block;margin-top:.75rem;font:inherit;font-weight:600;padding:.7rem 1.2rem;border-radius:6px;border:0;background:#1f4e8c;color:#fff;text-decoration:none;min-height:44px}
.hint{color:#555;font-size:.9rem;margin:.25rem 0 0}[role=status]{background:#e6f4ea;border-color:#8cc09a}[role=alert]{background:#fdecea;border-color:#e0a09a}
label.check{font-weight:400;display:flex;gap:.5rem;align-items:center}label.check input{width:auto;min-width:24px;min-height:24px}:focus-visible{outline:3px solid #f0a500;outline-offset:2px}footer{font-size:.9rem;color:#555;padding:0 1rem 2rem;max-width:40rem;margin:0 auto}`;

/** The page's content policy: nothing loads, no script runs, forms post back to this service only. */
export const SELF_SERVICE_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'`,
  "img-src 'self' data:",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const WORDS = {
  en: {
    title: 'Your account',
    greeting: 'Account of {{debtorName}} with {{creditor}}',
    account: 'Amounts',
    invoice: 'Invoice',
    dueDate: 'Due date',
    principal: 'Principal outstanding',
    fees: 'Late fees and costs',
    totalDue: 'Total due',
    paid: 'Paid so far',
    payments: 'Payments received',
    paymentDate: 'Date',
    paymentAmount: 'Amount',
    noPayments: 'No payments received yet.',
    letters: 'Letters sent to you',
    letterPdf: 'Letter {{number}} of {{date}} (PDF)',
    pay: 'Pay',
    payOnline: 'Pay online',
    payTransfer: 'Bank transfer to {{payee}}, account {{account}}.',
    payAsk: 'Write to us for our bank details.',
    reference: 'Quote this reference with your payment: {{reference}}. Your payment is shown here once it has reached us.',
    promise: 'Promise to pay',
    promiseHint: 'Reminders pause until the date you choose (at the latest {{latestPromise}}).',
    amount: 'Amount ({{currency}})',
    date: 'Payment date',
    promiseSubmit: 'Promise this payment',
    plan: 'Propose a payment plan',
    planHint:
      'Monthly instalments of the balance. A plan of up to {{planMaxInstalments}} instalments whose first is due by {{latestPlanStartText}} is agreed at once; other plans go to a collector, who will contact you.',
    count: 'Number of monthly instalments',
    firstDate: 'Date of the first instalment',
    planSubmit: 'Propose this plan',
    dispute: 'Dispute the amount',
    disputeHint: 'Tell us what is wrong. Reminders pause while we look into it.',
    reason: 'Your reason',
    disputeSubmit: 'Send the dispute',
    contact: 'Contact preferences',
    preferencesHint: 'Choose how we send you reminders. Letters about the claim are not affected.',
    byEmail: 'Reminders by email',
    bySms: 'Reminders by text message',
    preferencesSubmit: 'Save my preferences',
    optOut: 'Stop all reminders',
    closed: 'This case is {{status}}: nothing more can be arranged here.',
    promised: 'Thank you: your promise to pay {{amount}} {{currency}} by {{dueDate}} is recorded. Reminders pause until then.',
    agreed: 'Thank you: your plan of {{count}} monthly instalments is agreed. Reminders pause while it is kept.',
    proposed: 'Thank you: your plan of {{count}} instalments goes to a collector, who will contact you. Reminders continue until it is agreed.',
    disputed: 'Thank you: your dispute is received. Reminders pause while we look into it.',
    preferences: 'Your contact preferences are saved.',
  },
  'zh-CN': {
    title: '您的账户',
    greeting: '{{debtorName}}在{{creditor}}的账户',
    account: '金额',
    invoice: '发票',
    dueDate: '到期日',
    principal: '未还本金',
    fees: '违约金及费用',
    totalDue: '应付总额',
    paid: '已付金额',
    payments: '已收款项',
    paymentDate: '日期',
    paymentAmount: '金额',
    noPayments: '尚未收到付款。',
    letters: '已发送给您的函件',
    letterPdf: '{{date}}函件 {{number}}（PDF）',
    pay: '付款',
    payOnline: '在线付款',
    payTransfer: '请转账至{{payee}}，账号{{account}}。',
    payAsk: '请联系我们索取收款账户。',
    reference: '付款时请注明：{{reference}}。款项到账后将显示在此页。',
    promise: '承诺还款',
    promiseHint: '在您选择的日期之前暂停提醒（最晚{{latestPromise}}）。',
    amount: '金额（{{currency}}）',
    date: '还款日期',
    promiseSubmit: '提交还款承诺',
    plan: '申请分期还款',
    planHint: '按月分期偿还余额。不超过{{planMaxInstalments}}期且首期不晚于{{latestPlanStartText}}的方案立即生效；其他方案将由催收专员审核并联系您。',
    count: '分期期数（每月一期）',
    firstDate: '首期还款日期',
    planSubmit: '提交分期申请',
    dispute: '对金额提出异议',
    disputeHint: '请说明问题所在。核实期间暂停提醒。',
    reason: '异议理由',
    disputeSubmit: '提交异议',
    contact: '联系偏好',
    preferencesHint: '请选择接收提醒的方式。有关本债权的函件不受影响。',
    byEmail: '通过电子邮件提醒',
    bySms: '通过短信提醒',
    preferencesSubmit: '保存偏好',
    optOut: '停止所有提醒',
    closed: '本案件状态为{{status}}，无法在此办理。',
    promised: '谢谢：已记录您在{{dueDate}}前支付{{amount}} {{currency}}的承诺，在此之前暂停提醒。',
    agreed: '谢谢：您的{{count}}期按月分期方案已生效，按期还款期间暂停提醒。',
    proposed: '谢谢：您的{{count}}期分期申请已转交催收专员，专员将与您联系。方案确定前提醒继续。',
    disputed: '谢谢：已收到您的异议，核实期间暂停提醒。',
    preferences: '您的联系偏好已保存。',
  },
} as const satisfies Record<Locale, Record<string, string>>;

/**
 * A form's problem in Chinese, by the field it names (else by its code): the service's own
 * messages are English, and a debtor reading Chinese must still learn what to change.
 */
const ZH_PROBLEMS: Record<string, string> = {
  amount: '金额有误：请填写大于零且不超过应付总额的金额，例如 100.00。',
  dueDate: '还款日期有误：须在今天至{{latestPromise}}之间。',
  instalments: '分期期数有误：请选择2至24期。',
  firstDate: '首期还款日期有误：不得早于今天。',
  reason: '异议理由有误：请用3至1000个字说明。',
  conflict: '本案件目前无法办理此项：案件可能已结案，或已有生效的分期方案。',
  unprocessable: '无法办理：请检查金额和日期。',
  validation: '提交的内容有误，请检查后重试。',
  not_found: '提交的内容有误，请检查后重试。',
};
const zhProblems = Object.fromEntries(Object.entries(ZH_PROBLEMS).map(([key, text]) => [key, Handlebars.compile(text, { noEscape: true })]));

/** The problem in the page's language; a field is named by its first part ("form.amount", "instalments[0].amount"). */
function problemText(locale: Locale, problem: FormProblem, context: object): string {
  if (locale === 'en') return problem.text;
  const field = problem.fields.map((name) => name.replace(/^form\./, '').split(/[.[]/)[0]!).find((name) => Object.hasOwn(zhProblems, name));
  return zhProblems[field ?? problem.code]!(context);
}

type Words = Record<keyof (typeof WORDS)['en'], Handlebars.TemplateDelegate>;
const compiled = Object.fromEntries(
  Object.entries(WORDS).map(([locale, words]) => [
    locale,
    Object.fromEntries(Object.entries(words).map(([key, text]) => [key, Handlebars.compile(text, { noEscape: true })])),
  ]),
) as Record<Locale, Words>;

const PAGE = Handlebars.compile(`<!doctype html>
<html lang="{{locale}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{w.title}} · {{creditor}}</title>
<link rel="icon" href="data:,">
<style>{{{css}}}</style>
</head>
<body>
<main>
<h1>{{w.greeting}}</h1>
{{#if message}}<section role="{{message.kind}}"><p>{{message.text}}</p></section>{{/if}}
<section aria-labelledby="account"><h2 id="account">{{w.account}}</h2>
<dl>
<dt>{{w.invoice}}</dt><dd>{{invoiceRef}}</dd>
<dt>{{w.dueDate}}</dt><dd>{{dueDate}}</dd>
<dt>{{w.principal}}</dt><dd>{{principal}}</dd>
<dt>{{w.fees}}</dt><dd>{{fees}}</dd>
<dt>{{w.paid}}</dt><dd>{{paid}}</dd>
<dt class="total">{{w.totalDue}}</dt><dd class="total" id="total-due">{{totalDue}}</dd>
</dl></section>
<section aria-labelledby="payments"><h2 id="payments">{{w.payments}}</h2>
{{#if payments.length}}<table><thead><tr><th scope="col">{{w.paymentDate}}</th><th scope="col" class="n">{{w.paymentAmount}}</th></tr></thead>
<tbody>{{#each payments}}<tr><td>{{date}}</td><td class="n">{{amount}}</td></tr>{{/each}}</tbody></table>{{else}}<p>{{w.noPayments}}</p>{{/if}}
</section>
{{#if letters.length}}<section aria-labelledby="letters"><h2 id="letters">{{w.letters}}</h2><ul>{{#each letters}}<li><a href="{{../action}}/letters/{{id}}" type="application/pdf">{{label}}</a></li>{{/each}}</ul></section>{{/if}}
{{#if open}}
<section aria-labelledby="pay"><h2 id="pay">{{w.pay}}</h2>
{{#if payment.link}}<a class="pay" href="{{payment.link}}" rel="noopener noreferrer">{{w.payOnline}}</a>{{else}}<p>{{#if payment.account}}{{w.payTransfer}}{{else}}{{w.payAsk}}{{/if}}</p>{{/if}}
<p class="hint">{{w.reference}}</p></section>
<section aria-labelledby="promise"><h2 id="promise">{{w.promise}}</h2>
<form method="post" action="{{action}}/promise"><input type="hidden" name="formToken" value="{{formToken}}">
<p class="hint" id="promise-hint">{{w.promiseHint}}</p>
<label for="promise-amount">{{w.amount}}</label><input id="promise-amount" name="amount" inputmode="decimal" required value="{{balance}}" autocomplete="off">
<label for="promise-date">{{w.date}}</label><input id="promise-date" name="dueDate" type="date" required min="{{today}}" max="{{latestPromise}}" aria-describedby="promise-hint">
<button type="submit">{{w.promiseSubmit}}</button></form></section>
<section aria-labelledby="plan"><h2 id="plan">{{w.plan}}</h2>
<form method="post" action="{{action}}/plan"><input type="hidden" name="formToken" value="{{formToken}}">
<p class="hint" id="plan-hint">{{w.planHint}}</p>
<label for="plan-count">{{w.count}}</label><select id="plan-count" name="instalments" aria-describedby="plan-hint">{{#each counts}}<option value="{{this}}">{{this}}</option>{{/each}}</select>
<label for="plan-first">{{w.firstDate}}</label><input id="plan-first" name="firstDate" type="date" required min="{{today}}">
<button type="submit">{{w.planSubmit}}</button></form></section>
<section aria-labelledby="dispute"><h2 id="dispute">{{w.dispute}}</h2>
<form method="post" action="{{action}}/dispute"><input type="hidden" name="formToken" value="{{formToken}}">
<p class="hint" id="dispute-hint">{{w.disputeHint}}</p>
<label for="dispute-reason">{{w.reason}}</label><textarea id="dispute-reason" name="reason" required minlength="3" maxlength="1000" aria-describedby="dispute-hint"></textarea>
<button type="submit">{{w.disputeSubmit}}</button></form></section>
{{else}}<section><p>{{w.closed}}</p></section>{{/if}}
<section aria-labelledby="contact"><h2 id="contact">{{w.contact}}</h2>
<form method="post" action="{{action}}/preferences"><input type="hidden" name="formToken" value="{{formToken}}">
<p class="hint" id="preferences-hint">{{w.preferencesHint}}</p>
<label class="check"><input type="checkbox" name="email" value="on"{{#unless declined.email}} checked{{/unless}} aria-describedby="preferences-hint"> {{w.byEmail}}</label>
<label class="check"><input type="checkbox" name="sms" value="on"{{#unless declined.sms}} checked{{/unless}}> {{w.bySms}}</label>
<button type="submit">{{w.preferencesSubmit}}</button></form>
<p><a href="{{unsubscribeUrl}}">{{w.optOut}}</a></p></section>
</main>
<footer>{{creditor}}</footer>
</body>
</html>
`);

const PLAN_COUNTS = Array.from({ length: PLAN_MAX_PROPOSED - 1 }, (_, i) => i + 2);

export function selfServicePage(view: SelfServiceView): string {
  const words = compiled[view.locale];
  const context = { ...view, ...view.payment, latestPromise: view.latestPromiseText };
  const w = Object.fromEntries(Object.entries(words).map(([key, template]) => [key, template(context)]));
  const message = view.message && {
    kind: view.message.kind,
    text:
      view.message.kind === 'alert' ? problemText(view.locale, view.message.problem, context) : words[view.message.key]({ ...view, ...view.message.values }),
  };
  const letters = view.letters.map((letter) => ({ ...letter, label: words.letterPdf(letter) }));
  const declined = { email: view.declinedChannels.includes('email'), sms: view.declinedChannels.includes('sms') };
  return PAGE({ ...view, w, message, letters, declined, css: CSS, counts: PLAN_COUNTS });
}
