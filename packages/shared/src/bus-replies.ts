import { createInbox, type Msg, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";

/** NATS answered that nobody subscribes to the subject. */
export class NoResponders extends Error {}
/** The server refused to let this connection publish the request. */
export class PublishRefused extends Error {}

/**
 * Requests whose replies come in on one inbox subscription, told apart by the last token of
 * the reply subject. Unlike nats.js's request(), it builds an Error only for a request that fails.
 */
export class Replies {
  private readonly inbox: string;
  private readonly waiting = new Map<string, Waiter>();
  private sequence = 0;

  constructor(
    private readonly nc: NatsConnection,
    inboxPrefix?: string,
  ) {
    this.inbox = `${createInbox(inboxPrefix)}.`;
    // Reconnects subscribe it again; an answer to a request that gave up is dropped.
    nc.subscribe(`${this.inbox}*`, {
      callback: (err, msg) => {
        if (!err) this.answer(msg);
      },
    });
  }

  request(subject: string, payload: string, h: MsgHdrs, timeoutMs: number): Promise<Msg> {
    const reply = this.inbox + (this.sequence++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(
        () => this.settle(reply, new Error(`no reply on ${subject} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiting.set(reply, { subject, resolve, reject, timer });
      try {
        this.nc.publish(subject, payload, { reply, headers: h });
      } catch (err) {
        this.settle(reply, err as Error);
      }
    });
  }

  /**
   * The server refused a publish to `subject`: the oldest request on it fails (the server
   * answers each refused publish in order, and every request on a refused subject is refused).
   */
  refused(subject: string) {
    for (const [reply, waiter] of this.waiting) {
      if (waiter.subject !== subject) continue;
      this.settle(reply, new PublishRefused(`the server refused a publish to ${subject}`));
      return;
    }
  }

  private answer(msg: Msg) {
    // NATS answers a request nobody subscribes to with an empty 503 status message.
    this.settle(msg.subject, msg.data.length === 0 && msg.headers?.code === 503 ? new NoResponders() : msg);
  }

  private settle(reply: string, outcome: Msg | Error) {
    const waiter = this.waiting.get(reply);
    if (!waiter) return;
    this.waiting.delete(reply);
    clearTimeout(waiter.timer);
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }
}

interface Waiter {
  subject: string;
  resolve(msg: Msg): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}
