import type { ServerState } from "@cloudsim/shared";

/** A server's state as Nova shows it (nova/api/openstack/common.py `_STATE_MAP`, NOVA.md §2). */
export interface NovaState {
  status: string;
  vm_state: string;
  task_state: string | null;
  /** 0 NOSTATE, 1 RUNNING, 4 SHUTDOWN. */
  power_state: number;
}

/**
 * Each of cloudsim's timed states as Nova's (status, vm_state, task_state, power_state). A
 * transition shows as the state it leaves plus a task, as Nova sets them: stopping is ACTIVE
 * powering-off, starting SHUTOFF powering-on, terminating ACTIVE deleting.
 */
export const novaStates: Record<ServerState, NovaState> = {
  provisioning: { status: "BUILD", vm_state: "building", task_state: "spawning", power_state: 0 },
  running: { status: "ACTIVE", vm_state: "active", task_state: null, power_state: 1 },
  stopping: { status: "ACTIVE", vm_state: "active", task_state: "powering-off", power_state: 1 },
  stopped: { status: "SHUTOFF", vm_state: "stopped", task_state: null, power_state: 4 },
  starting: { status: "SHUTOFF", vm_state: "stopped", task_state: "powering-on", power_state: 4 },
  rebooting: { status: "REBOOT", vm_state: "active", task_state: "rebooting", power_state: 1 },
  terminating: { status: "ACTIVE", vm_state: "active", task_state: "deleting", power_state: 1 },
  terminated: { status: "DELETED", vm_state: "deleted", task_state: null, power_state: 0 },
  error: { status: "ERROR", vm_state: "error", task_state: null, power_state: 0 },
};

/** The cloudsim states a Nova `status` filter value matches; undefined for a status Nova does not have. */
export function statesOfStatus(status: string): ServerState[] | undefined {
  const wanted = status.toUpperCase();
  const known = [
    "BUILD",
    "ACTIVE",
    "SHUTOFF",
    "REBOOT",
    "HARD_REBOOT",
    "ERROR",
    "DELETED",
    "PAUSED",
    "SUSPENDED",
  ];
  if (!known.includes(wanted)) return undefined;
  return (Object.keys(novaStates) as ServerState[]).filter((s) => novaStates[s].status === wanted);
}

/** Nova's action names by the state a log entry moved a server to (nova/compute/instance_actions.py). */
export const actionOfState: Partial<Record<ServerState, string>> = {
  provisioning: "create",
  stopping: "stop",
  starting: "start",
  rebooting: "reboot",
  terminating: "delete",
};

/**
 * Why Nova would refuse `action` on a server in `state` (the 409's attribute and value): a task
 * under way names the task, otherwise the vm_state.
 */
export function refusalOf(state: ServerState): { attribute: "vm_state" | "task_state"; value: string } {
  const nova = novaStates[state];
  return nova.task_state
    ? { attribute: "task_state", value: nova.task_state }
    : { attribute: "vm_state", value: nova.vm_state };
}
