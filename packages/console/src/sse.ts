/**
 * The event feed (GET /events, text/event-stream) read with fetch(), since an EventSource cannot
 * send an Authorization header: a small SSE parser over the response's ReadableStream, and a
 * reconnect with Last-Event-ID after a drop.
 */
import { authHeaders, describeProblem } from "./api.ts";

export interface FeedEvent {
  type: string;
  server_id?: string;
  [field: string]: unknown;
}

export interface SseMessage {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** Splits a stream of SSE text into messages (comments and unknown fields are skipped). */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private id: string | undefined;
  private event: string | undefined;

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (match[0] === "\r" && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      if (line === "") {
        if (this.data.length > 0) out.push({ id: this.id, event: this.event, data: this.data.join("\n") });
        this.data = [];
        this.event = undefined;
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") this.data.push(value);
      else if (field === "id" && !value.includes("\0")) this.id = value;
      else if (field === "event") this.event = value;
    }
    return out;
  }
}

export type FeedStatus =
  | { state: "connecting" }
  | { state: "live" }
  | { state: "down"; message: string; retryInSeconds: number };

/**
 * Follows the feed until `signal` aborts, calling `onEvent` for each message and `onStatus` as the
 * connection comes and goes. After a drop it reconnects with the last id seen (Last-Event-ID).
 */
export async function followFeed(
  signal: AbortSignal,
  onEvent: (event: FeedEvent) => void,
  onStatus: (status: FeedStatus) => void,
): Promise<void> {
  let lastId: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    onStatus({ state: "connecting" });
    let message = "the feed ended";
    try {
      const headers: Record<string, string> = { accept: "text/event-stream", ...authHeaders() };
      if (lastId !== undefined) headers["last-event-id"] = lastId;
      const response = await fetch("/events", { headers, signal, cache: "no-store" });
      if (!response.ok || !response.body) {
        const text = await response.text();
        let problem: Record<string, unknown> = { detail: text };
        try {
          problem = JSON.parse(text);
        } catch {}
        message = describeProblem(response.status, problem);
      } else {
        failures = 0;
        onStatus({ state: "live" });
        const parser = new SseParser();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const msg of parser.push(value)) {
            if (msg.id !== undefined) lastId = msg.id;
            try {
              onEvent(JSON.parse(msg.data) as FeedEvent);
            } catch {
              // Not JSON: not an event of the contract.
            }
          }
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      message = `the feed dropped (${String(err)})`;
    }
    if (signal.aborted) return;
    failures += 1;
    const retryInSeconds = Math.min(30, 2 ** Math.min(failures - 1, 5));
    onStatus({ state: "down", message, retryInSeconds });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, retryInSeconds * 1000);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
