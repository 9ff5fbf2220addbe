import { describe, expect, it } from "vitest";
import { SseParser } from "./sse.ts";

describe("SseParser", () => {
  it("reads messages split anywhere across chunks, with ids, comments and CRLF", () => {
    const text =
      ': heartbeat\n\nid: 7\ndata: {"type":"a"}\n\n: heartbeat\r\n\r\nid: 8\r\ndata: {"type":"b"}\r\n\r\ndata: {"type":"c"}\n\n';
    for (const size of [1, 2, 3, 5, 7, 64]) {
      const parser = new SseParser();
      const out = [];
      for (let i = 0; i < text.length; i += size) out.push(...parser.push(text.slice(i, i + size)));
      expect(out).toEqual([
        { id: "7", event: undefined, data: '{"type":"a"}' },
        { id: "8", event: undefined, data: '{"type":"b"}' },
        // The last id stays until another is sent (what Last-Event-ID would say).
        { id: "8", event: undefined, data: '{"type":"c"}' },
      ]);
    }
  });

  it("joins data lines, keeps the event name, and sends nothing for a message without data", () => {
    const parser = new SseParser();
    expect(parser.push("event: x\ndata: one\ndata:two\n\nid: 3\n\n")).toEqual([
      { id: undefined, event: "x", data: "one\ntwo" },
    ]);
    expect(parser.push("data: later\n\n")).toEqual([{ id: "3", event: undefined, data: "later" }]);
  });

  it("waits for the end of a message", () => {
    const parser = new SseParser();
    expect(parser.push("id: 1\ndata: x\n")).toEqual([]);
    expect(parser.push("\n")).toEqual([{ id: "1", event: undefined, data: "x" }]);
  });
});
