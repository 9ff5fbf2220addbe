import { PassThrough } from "node:stream";

/**
 * One feed's Server-Sent Events, written into a stream the reply sends: `congested` once more than
 * `limit` bytes wait for the client (in this stream and the socket), `drained()` when they went.
 */
export class SseStream {
  readonly body = new PassThrough({ highWaterMark: 16_384 });
  private socketPending: () => number = () => 0;

  constructor(private readonly limit: number) {}

  /** The bytes the socket holds too: the reply's raw response, once it is being sent. */
  attach(pending: () => number) {
    this.socketPending = pending;
  }

  get pending(): number {
    return this.body.writableLength + this.socketPending();
  }

  get congested(): boolean {
    return this.pending > this.limit;
  }

  get closed(): boolean {
    return this.body.destroyed || this.body.writableEnded;
  }

  /** One message: its id (the reader's Last-Event-ID when it reconnects) and JSON data. */
  message(data: unknown, id?: number) {
    if (this.closed) return;
    this.body.write(`${id === undefined ? "" : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`);
  }

  /** A comment line, which EventSource ignores: keeps proxies from closing an idle feed. */
  comment(text: string) {
    if (!this.closed) this.body.write(`: ${text}\n\n`);
  }

  /** Resolves when the pending bytes fell under the limit, or after `timeoutMs` (false), or on close. */
  async drained(timeoutMs: number): Promise<boolean> {
    // real time: how long a client leaves bytes unread is a real wait.
    const until = Date.now() + timeoutMs;
    while (this.congested && !this.closed) {
      // real time: as above.
      const left = until - Date.now();
      if (left <= 0) return false;
      // The socket's own 'drain' is not ours to listen to: look again shortly.
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, 50)));
    }
    return true;
  }

  end(last?: unknown) {
    if (this.closed) return;
    if (last !== undefined) this.message(last);
    this.body.end();
  }
}
