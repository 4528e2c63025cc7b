import type { AppConfig } from '../config/app-config';

/**
 * Who writes, how to pay and how to dispute: the same on every channel (letters, emails, SMS),
 * from the settings. A debtor reading any one message knows who the creditor is, where the money
 * goes and where to object.
 */

export interface Creditor {
  name: string;
  address: string | null;
  contactName: string;
  contactPhone: string | null;
  contactEmail: string | null;
}

/** How to pay one invoice. Without an account or a link, the debtor is told to contact the creditor. */
export interface PaymentRoute {
  payee: string;
  bank: string | null;
  account: string | null;
  link: string | null;
  /** What to quote with the payment: the invoice's reference, which the creditor's books know. */
  reference: string;
}

export interface DisputeRoute {
  email: string | null;
  phone: string | null;
  url: string | null;
}

/** The address part of MAIL_FROM ("Name <a@b>" or "a@b"). */
export function mailFromAddress(config: Pick<AppConfig, 'MAIL_FROM'>): string {
  return /<([^>]+)>/.exec(config.MAIL_FROM)?.[1]?.trim() ?? config.MAIL_FROM.trim();
}

/** What ends every Message-ID: MAIL_FROM's domain. */
export function messageDomain(config: Pick<AppConfig, 'MAIL_FROM'>): string {
  return mailFromAddress(config).split('@')[1] || 'dunning.local';
}

/** The sender every email shows: the creditor's name at MAIL_FROM's address. */
export function mailSender(config: Pick<AppConfig, 'MAIL_FROM' | 'CREDITOR_NAME'>): { name: string; address: string } {
  return { name: config.CREDITOR_NAME, address: mailFromAddress(config) };
}

export function creditorOf(config: AppConfig): Creditor {
  return {
    name: config.CREDITOR_NAME,
    address: config.CREDITOR_ADDRESS ?? null,
    contactName: config.CREDITOR_CONTACT_NAME,
    contactPhone: config.CREDITOR_CONTACT_PHONE ?? null,
    contactEmail: config.CREDITOR_CONTACT_EMAIL ?? mailFromAddress(config),
  };
}

export function paymentRoute(config: AppConfig, invoice: { ref: string; caseId: string }): PaymentRoute {
  const link = config.PAYMENT_LINK?.replace(/\{invoice\}/g, encodeURIComponent(invoice.ref)).replace(/\{case\}/g, encodeURIComponent(invoice.caseId));
  return {
    payee: config.PAYMENT_PAYEE ?? config.CREDITOR_NAME,
    bank: config.PAYMENT_BANK ?? null,
    account: config.PAYMENT_ACCOUNT ?? null,
    link: link ?? null,
    reference: invoice.ref,
  };
}

export function disputeRoute(config: AppConfig): DisputeRoute {
  return {
    email: config.DISPUTE_EMAIL ?? config.CREDITOR_CONTACT_EMAIL ?? mailFromAddress(config),
    phone: config.DISPUTE_PHONE ?? config.CREDITOR_CONTACT_PHONE ?? null,
    url: config.DISPUTE_URL ?? null,
  };
}
