import { serverStates } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { novaStates, refusalOf, statesOfStatus } from "./states.ts";

describe("Nova states of cloudsim's timed states", () => {
  it("follow Nova's table", () => {
    expect(novaStates.provisioning).toEqual({
      status: "BUILD",
      vm_state: "building",
      task_state: "spawning",
      power_state: 0,
    });
    expect(novaStates.running).toEqual({
      status: "ACTIVE",
      vm_state: "active",
      task_state: null,
      power_state: 1,
    });
    expect(novaStates.stopping).toMatchObject({ status: "ACTIVE", task_state: "powering-off" });
    expect(novaStates.stopped).toEqual({
      status: "SHUTOFF",
      vm_state: "stopped",
      task_state: null,
      power_state: 4,
    });
    expect(novaStates.starting).toMatchObject({ status: "SHUTOFF", task_state: "powering-on" });
    expect(novaStates.rebooting).toMatchObject({
      status: "REBOOT",
      vm_state: "active",
      task_state: "rebooting",
    });
    expect(novaStates.error).toMatchObject({ status: "ERROR", vm_state: "error" });
    for (const state of serverStates) expect(novaStates[state].status).toMatch(/^[A-Z_]+$/);
  });

  it("turn a status filter into the states it matches", () => {
    expect(statesOfStatus("active")?.sort()).toEqual(["running", "stopping", "terminating"]);
    expect(statesOfStatus("SHUTOFF")?.sort()).toEqual(["starting", "stopped"]);
    expect(statesOfStatus("BUILD")).toEqual(["provisioning"]);
    expect(statesOfStatus("PAUSED")).toEqual([]);
    expect(statesOfStatus("nonsense")).toBeUndefined();
  });

  it("name the vm_state, or the task under way, in a refusal", () => {
    expect(refusalOf("stopped")).toEqual({ attribute: "vm_state", value: "stopped" });
    expect(refusalOf("stopping")).toEqual({ attribute: "task_state", value: "powering-off" });
  });
});
