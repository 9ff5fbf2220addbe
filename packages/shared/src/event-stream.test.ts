import { describe, expect, it } from "vitest";
import { JetStreamNotReady, whenJetStreamAnswers } from "./event-stream.ts";
import { createLogger } from "./logger.ts";

const log = createLogger("test", "silent");
const timeout = () => Object.assign(new Error("timeout"), { name: "TimeoutError" });

describe("whenJetStreamAnswers", () => {
  it("tries again while JetStream times out or is temporarily unavailable, then goes on", async () => {
    const failures = [
      timeout(),
      new Error("JetStream system temporarily unavailable"),
      new JetStreamNotReady("a replica behind"),
    ];
    let calls = 0;
    await whenJetStreamAnswers(async () => {
      calls++;
      const failure = failures.shift();
      if (failure) throw failure;
    }, log);
    expect(calls).toBe(4);
  });

  it("lets any other error out at once", async () => {
    let calls = 0;
    const refused = new Error("Permissions Violation for Publish to $JS.API.STREAM.CREATE.EVENTS");
    await expect(
      whenJetStreamAnswers(async () => {
        calls++;
        throw refused;
      }, log),
    ).rejects.toBe(refused);
    expect(calls).toBe(1);
  });
});
