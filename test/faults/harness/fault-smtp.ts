import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/** A message the server accepted (answered 250 to, or would have: see `clientGone`). */
export interface AcceptedMail {
  messageId: string;
  caseId: string;
  dispatchId: string;
  to: string;
  subject: string;
  /** Date.now() when the server accepted it. */
  at: number;
  /**
   * The client had gone (killed) before the answer: the whole message had arrived, so a mail
   * server has it and delivers it, but the sender never learnt that it was accepted.
   */
  clientGone: boolean;
}

type Mode = 'accepting' | 'temp-failing' | 'down';

/**
 * The suite's SMTP server (the `smtp-server` package, in the test process), which the suite can
 * break: `down()` closes the port and drops every connection (as a crashed mail server would,
 * losing what it had not yet accepted), `tempFail()` answers 421 to new connections and 451 at
 * the end of DATA, `hold()` keeps accepted messages waiting for their answer (so that a worker
 * can be killed while its sends are in flight). It records every accepted message with its
 * Message-ID and X-Dunning-Case / X-Dunning-Dispatch headers.
 */
export class FaultSmtp {
  readonly accepted: AcceptedMail[] = [];
  /** 421 and 451 answers given while temp-failing. */
  refusals = 0;
  private mode: Mode = 'down';
  private server?: SMTPServer;
  private generation = 0;
  private readonly sockets = new Set<Socket>();
  private readonly closedSessions = new Set<string>();
  private readonly openSessions = new Map<string, SMTPServerSession>();
  private holding = false;
  private held: { session: SMTPServerSession; answer: () => void }[] = [];

  constructor(readonly port: number) {}

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Messages waiting for their answer while held. */
  get heldCount(): number {
    return this.held.length;
  }

  /** Held messages that came over connections from these client ports (one process's, say). */
  heldFrom(clientPorts: Set<number>): number {
    return this.held.filter(({ session }) => clientPorts.has(session.remotePort)).length;
  }

  /** Whether every connection this server saw from these client ports has closed. */
  closedFrom(clientPorts: Set<number>): boolean {
    return [...this.openSessions.values()].every((session) => !clientPorts.has(session.remotePort));
  }

  async start(): Promise<void> {
    await this.up();
  }

  /** Listens (again) on the same port and accepts mail. */
  async up(): Promise<void> {
    if (this.mode === 'down') {
      const generation = ++this.generation;
      const server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        closeTimeout: 100,
        onConnect: (session, callback) => {
          if (this.mode !== 'temp-failing') {
            this.openSessions.set(session.id, session);
            return callback();
          }
          this.refusals++;
          callback(Object.assign(new Error('Service not available, closing transmission channel (fault suite)'), { responseCode: 421 }));
        },
        onClose: (session) => {
          this.closedSessions.add(session.id);
          this.openSessions.delete(session.id);
        },
        onData: (stream, session, callback) => this.onData(generation, stream, session, callback),
      });
      server.on('error', () => undefined);
      server.server.on('connection', (socket: Socket) => {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
      });
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(this.port, '127.0.0.1', () => resolve());
      });
      this.server = server;
    }
    this.mode = 'accepting';
  }

  /** Refuses connections: the port is closed and every open connection dropped; held messages are lost. */
  async down(): Promise<void> {
    if (this.mode === 'down') return;
    this.mode = 'down';
    this.generation++;
    const server = this.server;
    this.server = undefined;
    this.held = [];
    this.openSessions.clear();
    const closed = new Promise<void>((resolve) => (server ? server.server.close(() => resolve()) : resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Answers 421 to every new connection and 451 at the end of every DATA until `up()`. */
  async tempFail(): Promise<void> {
    if (this.mode === 'down') await this.up();
    this.mode = 'temp-failing';
  }

  /** Accepted messages wait for their answer until `release()`. */
  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    held.forEach(({ answer }) => answer());
  }

  async stop(): Promise<void> {
    this.release();
    await this.down();
  }

  private onData(generation: number, stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null) => void): void {
    readAll(stream)
      .then((raw) => {
        if (generation !== this.generation) return; // the server went down meanwhile: never accepted
        if (this.mode === 'temp-failing') {
          this.refusals++;
          return callback(Object.assign(new Error('Requested action aborted: local error in processing (fault suite)'), { responseCode: 451 }));
        }
        const accept = () => {
          if (generation !== this.generation) return;
          this.accepted.push({ ...headersOf(raw), at: Date.now(), clientGone: this.closedSessions.has(session.id) });
          callback();
        };
        if (this.holding) this.held.push({ session, answer: accept });
        else accept();
      })
      .catch((error: Error) => callback(error));
  }
}

function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** The few headers the suite judges by, read from the raw message's header block (unfolded). */
function headersOf(raw: Buffer): Pick<AcceptedMail, 'messageId' | 'caseId' | 'dispatchId' | 'to' | 'subject'> {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const block = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return {
    messageId: headers.get('message-id') ?? '',
    caseId: headers.get('x-dunning-case') ?? '',
    dispatchId: headers.get('x-dunning-dispatch') ?? '',
    to: headers.get('to') ?? '',
    subject: headers.get('subject') ?? '',
  };
}
