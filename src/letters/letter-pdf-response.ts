import type { Response } from 'express';

/**
 * Sends a letter's PDF as issued: its sha256 is the ETag and the `Repr-Digest`, so a reader can
 * check the bytes against the hash on the letter's touches. For the operators' route and the
 * debtor's self-service link alike.
 */
export function sendLetterPdf(res: Response, letter: { number: string; sha256: string; pdf: Buffer }): void {
  res
    .status(200)
    .type('application/pdf')
    .set('Content-Disposition', `inline; filename="${letter.number}.pdf"`)
    .set('ETag', `"${letter.sha256}"`)
    .set('Repr-Digest', `sha-256=:${Buffer.from(letter.sha256, 'hex').toString('base64')}:`)
    .send(letter.pdf);
}
