import {
  AppError,
  type Bus,
  type Clock,
  type ClockStore,
  clock as clockCommands,
  type HandlerMetrics,
  parseDuration,
} from "@cloudsim/shared";
import { type CatchUpDeps, catchUpTo } from "./catch-up.ts";

/**
 * The clock's commands: its time for anyone, and moves of a simulated one. `store` is undefined
 * when the clock is real (CLOCK=real), which cannot be moved.
 */
export function serveClock(
  bus: Bus,
  clock: Clock,
  catchUp: Omit<CatchUpDeps, "store"> & { store: ClockStore | undefined },
  metrics: HandlerMetrics,
) {
  const { store } = catchUp;
  bus.serve(
    clockCommands.now,
    async () => ({
      now: new Date(clock.now()).toISOString(),
      mode: store ? ("simulated" as const) : ("real" as const),
      rate: store?.clock.rate ?? 1,
    }),
    metrics,
  );
  bus.serve(
    clockCommands.advance,
    async ({ body, wait }) => {
      if (!store)
        throw new AppError(
          "CONFLICT",
          "the clock is real and cannot be moved: start every service with CLOCK=simulated",
          { mode: "real" },
        );
      const field = body.to === undefined ? "advance" : "to";
      const target =
        body.to === undefined
          ? store.clock.now() + (parseDuration(body.advance ?? "", "s") ?? 0)
          : Date.parse(body.to);
      if (!wait)
        return {
          now: new Date(await store.advanceTo(target, field)).toISOString(),
          caught_up: false,
          steps: 0,
        };
      // Refused before anything moves or is caught up.
      store.refuseBefore(target, field);
      const steps = await catchUpTo(target, { ...catchUp, store });
      return { now: new Date(store.clock.now()).toISOString(), caught_up: true, steps };
    },
    metrics,
  );
}
