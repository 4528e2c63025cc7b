/** The debtor's opt-out link: the token is the secret; the route is public (RFC 8058 one-click). */
export function unsubscribeLink(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/unsubscribe/${encodeURIComponent(token)}`;
}

/** Mail headers that let mail clients offer the opt-out themselves (RFC 2369, RFC 8058). */
export function unsubscribeHeaders(link: string): Record<string, string> {
  return { 'List-Unsubscribe': `<${link}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}
