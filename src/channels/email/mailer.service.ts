import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { createTransport, Transporter } from 'nodemailer';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { SENDGRID_MESSAGE_ID_ARG } from '../../domain/delivery-status';
import { mailSender } from '../creditor';
import { writeOutboxFile } from '../outbox-file';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Derived from the dispatch id, so a resend after a crash is recognisable downstream. */
  messageId: string;
  headers?: Record<string, string>;
  attachments?: { filename: string; content: Buffer; contentType: string }[];
}

export interface SentEmail {
  messageId: string;
  /** Where the message went: the SMTP server's reply, or the outbox file. */
  receipt: string;
}

/**
 * Sends through SMTP (pooled) when SMTP_URL is set; otherwise writes each message as an
 * .eml file under OUTBOX_DIR, so the service runs with no mail server.
 */
@Injectable()
export class Mailer implements OnApplicationShutdown {
  private readonly logger = new Logger(Mailer.name);
  private readonly transport: Transporter;
  private readonly outboxDir?: string;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    if (config.SMTP_URL) {
      this.transport = createTransport({
        url: config.SMTP_URL,
        pool: true,
        maxConnections: config.SMTP_POOL_SIZE,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      } as Parameters<typeof createTransport>[0]) as Transporter;
    } else {
      this.outboxDir = config.OUTBOX_DIR;
      this.transport = createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    }
  }

  async send(email: OutgoingEmail): Promise<SentEmail> {
    const info = await this.transport.sendMail({
      from: mailSender(this.config),
      to: email.to,
      subject: email.subject,
      text: email.text,
      html: email.html,
      messageId: email.messageId,
      // SendGrid echoes these arguments in every event of the message, also those that carry no
      // Message-ID (open, spamreport): how its reports find their dispatch. Other relays ignore it.
      headers: { ...email.headers, 'X-SMTPAPI': JSON.stringify({ unique_args: { [SENDGRID_MESSAGE_ID_ARG]: email.messageId } }) },
      attachments: email.attachments,
    });
    if (this.outboxDir) {
      // Whole or not at all, as an SMS file: a mail pickup reading the folder never sees half a message.
      const { file, fresh } = await writeOutboxFile(this.outboxDir, `${email.messageId.replace(/[<>@]/g, '_')}.eml`, info.message as Buffer);
      this.logger.log(`notice ${email.messageId} ${fresh ? 'written to' : 'already in'} ${file}`);
      return { messageId: email.messageId, receipt: `outbox:${file}` };
    }
    return { messageId: email.messageId, receipt: String(info.response ?? 'accepted') };
  }

  /** After the workers have finished their jobs (they close in beforeApplicationShutdown). */
  onApplicationShutdown(): void {
    this.transport.close();
  }
}
