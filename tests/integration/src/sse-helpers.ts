import { eventually } from "./harness.ts";

/** One Server-Sent Events message as a client reads it. */
export interface SseMessage {
  id?: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read event bodies loosely and assert on them
  data: any;
}

/**
 * A GET /events feed read as a browser would (fetch and a stream): its status, the messages and
 * comments so far, and close(). Waits for the answer's headers.
 */
export async function openFeed(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: abort.signal,
  });
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  let ended = false;
  const read = (async () => {
    if (!res.ok || !res.body) return;
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for await (const chunk of res.body) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let end = buffered.indexOf("\n\n");
        while (end >= 0) {
          const frame = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const message: Partial<SseMessage> = {};
          for (const line of frame.split("\n")) {
            if (line.startsWith(":")) comments.push(line.slice(1).trim());
            else if (line.startsWith("id: ")) message.id = line.slice(4);
            else if (line.startsWith("data: ")) message.data = JSON.parse(line.slice(6));
          }
          if (message.data !== undefined) messages.push(message as SseMessage);
          end = buffered.indexOf("\n\n");
        }
      }
    } catch {
      // Aborted by close().
    }
    ended = true;
  })();
  return {
    res,
    messages,
    comments,
    get ended() {
      return ended;
    },
    /** The messages matching `match`, once there are at least `count`. */
    async until(match: (m: SseMessage) => boolean, count = 1, timeoutMs = 10_000) {
      return eventually(
        async () => {
          const found = messages.filter(match);
          return found.length >= count ? found : undefined;
        },
        timeoutMs,
        `${count} matching event(s) on the feed (${messages.length} so far)`,
      );
    },
    async close() {
      abort.abort();
      await read;
    },
  };
}
export type Feed = Awaited<ReturnType<typeof openFeed>>;
