import { AsyncResource } from "node:async_hooks";
import type { Msg, MsgHdrs } from "@nats-io/transport-node";

/** What a command server reads of a request and how it answers: a NATS message, or a local one. */
export type IncomingRequest = Pick<Msg, "subject" | "headers" | "json" | "respond">;

/** A command server's entry point: the subscription callback its NATS subscription also calls. */
export type LocalServer = (err: null, msg: IncomingRequest) => void;

/**
 * The commands served in this process, by full subject (prefix included, so deployments sharing
 * a process never meet), each with its servers in turn: the replicas in this process share the
 * requests as a queue group would.
 */
const servers = new Map<string, { turn: number; list: LocalServer[] }>();

/** Handlers start outside the requester's async context, as a NATS delivery would. */
const detached = new AsyncResource("cloudsim.local-request");

/** Serves `subject` to requests from this process too; the returned function stops it. */
export function serveLocally(subject: string, server: LocalServer): () => void {
  const entry = servers.get(subject) ?? { turn: 0, list: [] };
  entry.list.push(server);
  servers.set(subject, entry);
  return () => {
    entry.list = entry.list.filter((s) => s !== server);
    if (entry.list.length === 0 && servers.get(subject) === entry) servers.delete(subject);
  };
}

/** The next server of `subject` in this process, if any. */
export function localServer(subject: string): LocalServer | undefined {
  const entry = servers.get(subject);
  if (!entry) return undefined;
  entry.turn = (entry.turn + 1) % entry.list.length;
  return entry.list[entry.turn];
}

/** The answer to a local request, read as a NATS reply is. */
export interface LocalReply {
  json<T>(): T;
}

/**
 * A request to a server in this process: the same bytes, headers and deadline as over NATS,
 * without the round trip through nats-server. Rejects when no answer comes within `timeoutMs`.
 */
export function requestLocally(
  server: LocalServer,
  subject: string,
  payload: string,
  headers: MsgHdrs,
  timeoutMs: number,
): Promise<LocalReply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      reject(new Error(`no reply on ${subject} within ${timeoutMs} ms`));
    }, timeoutMs);
    const msg: IncomingRequest = {
      subject,
      headers,
      json: <T>() => JSON.parse(payload) as T,
      respond: (data) => {
        if (answered) return false;
        answered = true;
        clearTimeout(timer);
        const text = typeof data === "string" ? data : new TextDecoder().decode(data);
        resolve({ json: <T>() => JSON.parse(text) as T });
        return true;
      },
    };
    detached.runInAsyncScope(() => server(null, msg));
  });
}
