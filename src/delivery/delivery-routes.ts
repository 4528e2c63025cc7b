/** The provider routes that authenticate by a signature over the raw body (bootstrap reads them raw). */
export const SIGNED_PROVIDER_ROUTES = ['/v1/delivery/ses', '/v1/delivery/sendgrid'];
/** SNS messages are at most 256 KB; SendGrid batches stay well below this. */
export const PROVIDER_BODY_LIMIT = '1mb';
/** RFC 3464 reports, posted raw with an ingest key. */
export const DSN_ROUTE = '/v1/delivery/dsn';
