import { isIdle } from "./idle.ts";

const thirtyMinutes = 30 * 60_000;
const otherStates = ["running", "stopping", "starting", "error", "terminated", "provisioning"];

/**
 * The cases the idle rule is held to, in isIdle (idle.test.ts) and in the SQL the sweep runs
 * (db/idle-sql.test.ts): stopped for `forMs` with a timeout of `timeoutMs`.
 */
export const idleCases: { name: string; state: string; forMs: number; timeoutMs: number; idle: boolean }[] = [
  {
    name: "stopped for longer than the timeout",
    state: "stopped",
    forMs: thirtyMinutes + 1,
    timeoutMs: thirtyMinutes,
    idle: true,
  },
  {
    name: "stopped exactly the timeout",
    state: "stopped",
    forMs: thirtyMinutes,
    timeoutMs: thirtyMinutes,
    idle: false,
  },
  {
    name: "stopped for less than the timeout",
    state: "stopped",
    forMs: 1_000,
    timeoutMs: thirtyMinutes,
    idle: false,
  },
  {
    name: "stopped a millisecond past a timeout of 1.5s",
    state: "stopped",
    forMs: 1_501,
    timeoutMs: 1_500,
    idle: true,
  },
  {
    name: "stopped exactly a timeout of 1.5s",
    state: "stopped",
    forMs: 1_500,
    timeoutMs: 1_500,
    idle: false,
  },
  { name: "stopped since a time still to come", state: "stopped", forMs: -60_000, timeoutMs: 0, idle: false },
  ...otherStates.map((state) => ({
    name: `${state} however long`,
    state,
    forMs: 10 * thirtyMinutes,
    timeoutMs: thirtyMinutes,
    idle: false,
  })),
];

/** isIdle for a case, `forMs` before `now`. */
export function isIdleCase(c: (typeof idleCases)[number], now: Date): boolean {
  return isIdle(c.state, new Date(now.getTime() - c.forMs), now, c.timeoutMs);
}
