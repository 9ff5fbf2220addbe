import type { ServerState } from "@cloudsim/shared";

/** Delays of the timed states, in milliseconds, from config. */
export interface StateDelays {
  PROVISION_DELAY: number;
}

/** A state that lasts a configured time and then moves on by itself. */
interface TimedState {
  next: ServerState;
  delay: keyof StateDelays;
  message: string;
}

const timedStates: Partial<Record<ServerState, TimedState>> = {
  provisioning: { next: "running", delay: "PROVISION_DELAY", message: "provisioning finished" },
};

/** What a timed state becomes when its time is up, or undefined for a state that waits for a user. */
export function completionOf(state: ServerState): TimedState | undefined {
  return timedStates[state];
}

/** How long a timed state lasts under the given delays. */
export function delayOf(state: ServerState, delays: StateDelays): number | undefined {
  const timed = timedStates[state];
  return timed && delays[timed.delay];
}
