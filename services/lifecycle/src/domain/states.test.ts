import { type ServerState, serverActions, serverStates } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { allowedActions, applyAction, completionOf, delayOf, statesEndingIn } from "./states.ts";

const delays = { PROVISION_DELAY: 1, START_DELAY: 2, STOP_DELAY: 3, REBOOT_DELAY: 4, TERMINATE_DELAY: 5 };

describe("timed states", () => {
  it.each([
    ["provisioning", "running", 1],
    ["starting", "running", 2],
    ["stopping", "stopped", 3],
    ["rebooting", "running", 4],
    ["terminating", "terminated", 5],
  ] as const)("%s ends in %s after its delay", (state, next, delay) => {
    expect(completionOf(state)?.next).toBe(next);
    expect(delayOf(state, delays)).toBe(delay);
  });
  it("leaves states that wait for a user alone", () => {
    for (const state of ["running", "stopped", "terminated", "error"] as const) {
      expect(completionOf(state)).toBeUndefined();
      expect(delayOf(state, delays)).toBeUndefined();
    }
  });
  it("names the timed states that end in a state", () => {
    expect(statesEndingIn("stopped")).toEqual(["stopping"]);
    expect(statesEndingIn("running").sort()).toEqual(["provisioning", "rebooting", "starting"]);
    expect(statesEndingIn("error")).toEqual([]);
  });
});

describe("actions", () => {
  const table: Record<ServerState, string[]> = {
    provisioning: ["terminate"],
    running: ["stop", "reboot", "terminate"],
    stopping: ["terminate"],
    stopped: ["start", "terminate"],
    starting: ["terminate"],
    rebooting: ["terminate"],
    terminating: [],
    terminated: [],
    error: ["terminate"],
  };
  it.each(serverStates)("from %s allows exactly what the design says", (state) => {
    expect(allowedActions(state)).toEqual(table[state]);
  });
  it("goes through the action's timed state", () => {
    expect(applyAction("stopped", "start")).toBe("starting");
    expect(applyAction("running", "stop")).toBe("stopping");
    expect(applyAction("running", "reboot")).toBe("rebooting");
    for (const state of serverStates.filter((s) => table[s].includes("terminate")))
      expect(applyAction(state, "terminate")).toBe("terminating");
  });
  it("refuses the rest with CONFLICT naming the state and the allowed actions", () => {
    for (const state of serverStates) {
      for (const action of serverActions.filter((a) => !table[state].includes(a))) {
        expect(() => applyAction(state, action)).toThrow(
          expect.objectContaining({
            code: "CONFLICT",
            details: expect.objectContaining({ state, allowed_actions: table[state] }),
          }),
        );
      }
    }
  });
  it("every timed state an action goes through ends by itself", () => {
    for (const action of serverActions) {
      const via = applyAction(action === "start" ? "stopped" : "running", action);
      expect(completionOf(via)).toBeDefined();
    }
  });
});
