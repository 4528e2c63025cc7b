import { once } from 'node:events';
import type { Client, Connection, Submittable } from 'pg';

/** The COPY messages of pg's connection (the ones pg-copy-streams sends too); its types leave them out. */
interface CopyConnection extends Connection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
}

/**
 * `COPY … FROM STDIN` through pg's Submittable hook, without a dependency for it: answers the
 * server's CopyInResponse with the chunks of `source`, waiting whenever the socket's buffer is full.
 */
class CopyIn implements Submittable {
  private rows = 0;
  private failed = false;

  constructor(
    private readonly text: string,
    private readonly source: AsyncIterable<string>,
    private readonly settle: (error: Error | undefined, rows: number) => void,
  ) {}

  submit(connection: Connection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    void this.pump(connection);
  }

  private async pump(connection: CopyConnection): Promise<void> {
    try {
      for await (const chunk of this.source) {
        if (this.failed) return;
        connection.sendCopyFromChunk(Buffer.from(chunk));
        if (connection.stream.writableNeedDrain) await once(connection.stream, 'drain');
      }
      connection.endCopyFrom();
    } catch (error) {
      connection.sendCopyFail(error instanceof Error ? error.message : String(error));
    }
  }

  handleCommandComplete(message: { text: string }): void {
    this.rows = Number(/(\d+)$/.exec(message.text)?.[1] ?? 0);
  }

  /** pg calls this instead of handleReadyForQuery when the statement failed. */
  handleError(error: Error): void {
    this.failed = true;
    this.settle(error, 0);
  }

  handleReadyForQuery(): void {
    this.settle(undefined, this.rows);
  }
}

/** Streams COPY text-format lines into `statement` (a `COPY … FROM STDIN`); resolves with the rows copied. */
export function copyIn(client: Client, statement: string, source: AsyncIterable<string>): Promise<number> {
  return new Promise((resolve, reject) => {
    client.query(new CopyIn(statement, source, (error, rows) => (error ? reject(error) : resolve(rows))));
  });
}
