import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SMTPServer } from 'smtp-server';

/** An in-process SMTP server that accepts everything and counts messages and their bytes. */
export class SmtpSink {
  received = 0;
  bytes = 0;
  /** performance.now() of the latest fully received message. */
  lastAt = 0;
  private readonly server: SMTPServer;

  private constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // Both clients QUIT on close; this only bounds a stuck shutdown.
      closeTimeout: 2000,
      onData: (stream, _session, callback) => {
        let size = 0;
        stream.on('data', (chunk: Buffer) => (size += chunk.length));
        stream.once('error', callback);
        // Count only once the whole message is consumed, as a real server would before its 250.
        stream.once('end', () => {
          this.received++;
          this.bytes += size;
          this.lastAt = performance.now();
          callback();
        });
      },
    });
  }

  static async start(): Promise<{ sink: SmtpSink; port: number }> {
    const sink = new SmtpSink();
    const port = await new Promise<number>((resolve, reject) => {
      sink.server.once('error', reject);
      const listener = sink.server.listen(0, '127.0.0.1', () => resolve((listener.address() as AddressInfo).port));
    });
    return { sink, port };
  }

  /** Starts a new counting phase on the same server. */
  reset(): void {
    this.received = 0;
    this.bytes = 0;
    this.lastAt = 0;
  }

  averageBytes(): number {
    return this.received ? this.bytes / this.received : 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(resolve));
  }
}
