import { AppError, type Instance, type ServerAction, type ServerState } from "@cloudsim/shared";

/**
 * What an EC2 action does to a server in each state: act (through the state machine), change
 * nothing (the state already satisfies it, and EC2 answers success), or refuse
 * (IncorrectInstanceState).
 */
type Verdict = "act" | "unchanged" | "refused";

const verdicts: Record<ServerAction, Partial<Record<ServerState, Verdict>> & { default: Verdict }> = {
  // Already running or on its way there: a start changes nothing.
  start: {
    stopped: "act",
    provisioning: "unchanged",
    starting: "unchanged",
    running: "unchanged",
    rebooting: "unchanged",
    default: "refused",
  },
  stop: { running: "act", stopping: "unchanged", stopped: "unchanged", default: "refused" },
  // "Requests to reboot terminated instances are ignored."
  reboot: {
    running: "act",
    rebooting: "unchanged",
    terminating: "unchanged",
    terminated: "unchanged",
    error: "unchanged",
    default: "refused",
  },
  terminate: { terminating: "unchanged", terminated: "unchanged", error: "unchanged", default: "act" },
};

export const verdictOf = (action: ServerAction, state: ServerState): Verdict =>
  verdicts[action][state] ?? verdicts[action].default;

const done: Record<ServerAction, string> = {
  start: "started",
  stop: "stopped",
  reboot: "rebooted",
  terminate: "terminated",
};

/** EC2's words for an action refused in a state. */
export function refusal(action: ServerAction, instance: Instance): AppError {
  const id = instance.instance_id;
  const message =
    action === "stop" && instance.state_name === "pending"
      ? `Instance '${id}' cannot be stopped as it has never reached the 'running' state.`
      : `The instance '${id}' is not in a state from which it can be ${done[action]}.`;
  return new AppError("CONFLICT", message, { instance_id: id, state: instance.state, action });
}

/** The attribute that protects an instance from an action (disableApiTermination, disableApiStop), if any. */
const protections: Partial<Record<ServerAction, "disable_api_termination" | "disable_api_stop">> = {
  terminate: "disable_api_termination",
  stop: "disable_api_stop",
};

/** Whether the instance's attributes forbid the action through the API. */
export const isProtected = (action: ServerAction, instance: Instance) => {
  const attribute = protections[action];
  return attribute !== undefined && instance[attribute];
};

/** EC2's words for an action an instance's protection forbids (OperationNotPermitted). */
export function protection(action: ServerAction, instance: Instance): AppError {
  const attribute = action === "terminate" ? "disableApiTermination" : "disableApiStop";
  return new AppError(
    "CONFLICT",
    `The instance '${instance.instance_id}' may not be ${done[action]}. Modify its '${attribute}' instance attribute and try again.`,
    { reason: "operation_not_permitted", instance_id: instance.instance_id, attribute },
  );
}
