import { z } from "zod";
import { parseDuration } from "../duration.ts";
import { defineCommand } from "./command.ts";
import { Timestamp } from "./timestamp.ts";

/** The longest one advance may move the clock: ten years, so no sum of times overflows a timestamp. */
export const MAX_CLOCK_ADVANCE_MS = 10 * 366 * 86_400_000;

export const ClockNow = z
  .object({
    now: Timestamp.describe("The time of simulated things: states, bills, idle time, logs"),
    mode: z.enum(["real", "simulated"]).describe("simulated when CLOCK=simulated: then it can be moved"),
    rate: z.number().describe("Simulated seconds per real second (1 in real mode)"),
  })
  .meta({ id: "Clock" });

export const AdvanceClockBody = z
  .object({
    advance: z
      .string()
      .regex(/^\d+(ms|s|m|h|d)$/, "expected a duration like 90s, 30m, 2h or 31d")
      .refine((text) => (parseDuration(text, "s") ?? 0) <= MAX_CLOCK_ADVANCE_MS, "at most 3660d")
      .optional()
      .describe("How far to move the clock: a whole number of ms, s, m, h or d"),
    to: z.iso
      .datetime({ offset: true })
      .optional()
      .describe("RFC 3339 time to move the clock to; not before the clock's time"),
  })
  .refine((body) => (body.advance === undefined) !== (body.to === undefined), {
    message: "give exactly one of advance or to",
    path: ["advance"],
  })
  .meta({ id: "AdvanceClock" });

export const ClockAdvanced = z
  .object({
    now: Timestamp.describe("The clock's time once moved"),
    caught_up: z
      .boolean()
      .describe("True when everything due up to `now` has happened (false with wait=false)"),
    steps: z.number().int().describe("The times the system stopped at on the way, to act at what fell due"),
  })
  .meta({ id: "ClockAdvanced" });

/** What a service was asked to do at a time of a catch-up, and what it did. */
const CatchUpRequest = z.object({
  at: Timestamp,
  final: z.boolean().describe("The last stop: accrue what runs up to `at`"),
});
const CatchUpReply = z.object({
  acted: z.number().int().describe("Things it did at `at` (a new round follows while any service acts)"),
  next_due_at: Timestamp.nullable().describe("The earliest time it will next act at by itself"),
});
const catchUp = (service: string) =>
  defineCommand(service, "catch-up", { request: CatchUpRequest, reply: CatchUpReply });

/** The clock, answered by lifecycle, which keeps the timers and leads a catch-up. */
export const clock = {
  now: defineCommand("lifecycle", "clock-now", { request: z.object({}), reply: ClockNow }),
  /**
   * Moves the simulated clock; with `wait`, answers once every service has done what fell due
   * up to the new time, in the order it fell due.
   */
  advance: defineCommand("lifecycle", "clock-advance", {
    request: z.object({ body: AdvanceClockBody, wait: z.boolean() }),
    reply: ClockAdvanced,
  }),
};

/** What lifecycle asks each other service at each stop of a catch-up: settle, act on what is due. */
export const catchUps = {
  ipam: catchUp("ipam"),
  billing: catchUp("billing"),
  reaper: catchUp("reaper"),
};
