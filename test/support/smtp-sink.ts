import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  attachments: { filename: string; contentType: string; content: Buffer }[];
  receivedAt: Date;
}

/** A real SMTP server for tests: records what it accepts, or refuses everything while `refusing`. */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  refusing = false;
  /** Refuses this many messages, then accepts again (a mail server's passing trouble). */
  refuseNext = 0;
  refusals = 0;
  /** While set, accepted messages wait for it before the server answers (a slow mail server). */
  gate?: Promise<void>;
  waiting = 0;
  private server?: SMTPServer;

  async start(): Promise<string> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, _session, callback) => {
        if (this.refusing || this.refuseNext > 0) {
          this.refusals++;
          this.refuseNext = Math.max(0, this.refuseNext - 1);
          stream.resume();
          stream.on('end', () => callback(Object.assign(new Error('mailbox unavailable (test refusal)'), { responseCode: 451 })));
          return;
        }
        simpleParser(stream)
          .then(async (mail: ParsedMail) => {
            if (this.gate) {
              this.waiting++;
              await this.gate;
              this.waiting--;
            }
            this.received.push({
              to: Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(', ') : (mail.to?.text ?? ''),
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              html: typeof mail.html === 'string' ? mail.html : '',
              messageId: mail.messageId ?? '',
              attachments: mail.attachments.map((a) => ({ filename: a.filename ?? '', contentType: a.contentType, content: a.content })),
              receivedAt: new Date(),
            });
            callback();
          })
          .catch(callback);
      },
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.server.address() as AddressInfo;
    return `smtp://127.0.0.1:${port}`;
  }

  to(address: string): ReceivedMail[] {
    return this.received.filter((mail) => mail.to.includes(address));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
