import { AppError, type ServerAction, type ServerState, serverActions } from "@cloudsim/shared";

/** Delays of the timed states, in milliseconds, from config. */
export interface StateDelays {
  PROVISION_DELAY: number;
  START_DELAY: number;
  STOP_DELAY: number;
  REBOOT_DELAY: number;
  TERMINATE_DELAY: number;
}

/** A state that lasts a configured time and then moves on by itself. */
interface TimedState {
  next: ServerState;
  delay: keyof StateDelays;
  /** What the state is doing, for log messages: "start", "reboot", … */
  work: string;
}

const timedStates: Partial<Record<ServerState, TimedState>> = {
  provisioning: { next: "running", delay: "PROVISION_DELAY", work: "provisioning" },
  starting: { next: "running", delay: "START_DELAY", work: "start" },
  stopping: { next: "stopped", delay: "STOP_DELAY", work: "stop" },
  rebooting: { next: "running", delay: "REBOOT_DELAY", work: "reboot" },
  terminating: { next: "terminated", delay: "TERMINATE_DELAY", work: "termination" },
};

/** Each action: the states it is allowed from and the timed state it goes through. */
const actions: Record<ServerAction, { from: readonly ServerState[]; via: ServerState }> = {
  start: { from: ["stopped"], via: "starting" },
  stop: { from: ["running"], via: "stopping" },
  reboot: { from: ["running"], via: "rebooting" },
  terminate: {
    from: ["provisioning", "running", "stopping", "stopped", "starting", "rebooting", "error"],
    via: "terminating",
  },
};

/** What a timed state becomes when its time is up, or undefined for a state that waits for a user. */
export function completionOf(state: ServerState): TimedState | undefined {
  return timedStates[state];
}

/** The timed states that become `state` when their time is up. */
export function statesEndingIn(state: ServerState): ServerState[] {
  return (Object.keys(timedStates) as ServerState[]).filter((s) => timedStates[s]?.next === state);
}

/** How long a timed state lasts under the given delays. */
export function delayOf(state: ServerState, delays: StateDelays): number | undefined {
  const timed = timedStates[state];
  return timed && delays[timed.delay];
}

/** The states `action` is allowed from, and the timed state it moves a server to from any of them. */
export function actionRule(action: ServerAction): { from: readonly ServerState[]; via: ServerState } {
  return actions[action];
}

export function allowedActions(state: ServerState): ServerAction[] {
  return serverActions.filter((action) => actions[action].from.includes(state));
}

/** The timed state `action` moves a server in `state` to; CONFLICT naming what is allowed otherwise. */
export function applyAction(state: ServerState, action: ServerAction): ServerState {
  const rule = actions[action];
  if (!rule.from.includes(state)) {
    const allowed = allowedActions(state);
    throw new AppError(
      "CONFLICT",
      `cannot ${action} a server that is ${state}; allowed now: ${allowed.length ? allowed.join(", ") : "none"}`,
      { state, action, allowed_actions: allowed },
    );
  }
  return rule.via;
}
