import { Agent, request } from "node:http";
import { describe, expect, it } from "vitest";
import { useStack } from "./harness.ts";

/**
 * Sockets the load opens at most: the gateway runs in this process too, and more connections
 * at once than its listen backlog would time out before they reach it. Past them, requests wait
 * in the agent, as they would in a client's pool.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 400 });

/** One request through `agent`: its status, Retry-After and parsed body. */
function send(url: string, method: string, body?: unknown) {
  return new Promise<{ status: number; retryAfter: string | undefined; body: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request(url, { method, agent, headers: { "content-type": "application/json" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers["retry-after"] as string | undefined,
            body: JSON.parse(Buffer.concat(chunks).toString() || "{}"),
          }),
        );
      });
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    },
  );
}

/** The highest resident set size seen while `work` runs, sampled every 25 ms. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 25);
  try {
    return { result: await work(), peakMb: Math.round(peak / 1_048_576) };
  } finally {
    clearInterval(timer);
  }
}

describe("back-pressure", () => {
  // Every service (the gateway too) handles 20 requests at once; the rest are refused at once
  // (the services' own cap is tested in packages/shared/src/nats.test.ts).
  // Quiet logs: 10,000 request lines would be most of the work here.
  const s = useStack({
    env: { MAX_IN_FLIGHT: "20", IPAM_POOLS: "eu-west-1=10.2.0.0/16", LOG_LEVEL: "warn" },
  });

  it("answers 5,000 requests at once with 2xx or 503, stays up, and stays within its memory", async () => {
    const baselineMb = Math.round(process.memoryUsage().rss / 1_048_576);
    const { result: statuses, peakMb } = await peakRss(() =>
      Promise.all(
        Array.from({ length: 5_000 }, async (_, i) => {
          const answer =
            i % 2 === 0
              ? await send(`${s.stack.url}/servers`, "POST", { region: "eu-west-1", type: "t2.nano" })
              : await send(`${s.stack.url}/servers?limit=5`, "GET");
          if (answer.status === 503) {
            expect(answer.retryAfter).toBe("1");
            expect(answer.body).toMatchObject({ code: "UNAVAILABLE", reason: "overloaded" });
          }
          return answer.status;
        }),
      ),
    );
    const counts = statuses.reduce<Record<number, number>>((c, status) => {
      c[status] = (c[status] ?? 0) + 1;
      return c;
    }, {});
    // The cap was met (some were refused) and work went on under it (some were done).
    expect(Object.keys(counts).map(Number).sort()).toEqual([200, 201, 503]);
    // Refusals answer at once, so the process never held all 5,000 requests' work.
    expect(peakMb - baselineMb, `peak ${peakMb} MB, from ${baselineMb} MB`).toBeLessThan(768);
    // Every service still answers, and a request now goes through.
    for (const { running } of s.stack.services) {
      expect((await fetch(`http://127.0.0.1:${running.port}/readyz`)).status).toBe(200);
    }
    expect((await s.api.post("/servers", { region: "eu-west-1", type: "t2.nano" })).status).toBe(201);
    agent.destroy();
  });
});
