import type { Logger } from "./logger.ts";

/**
 * A loop that runs `tick` every `intervalMs`, at once again while it reports a full batch. It
 * starts at once, or one interval from now with `firstAfterInterval`.
 */
export function startLoop(
  name: string,
  tick: () => Promise<number>,
  opts: { intervalMs: number; batch: number; log: Logger; firstAfterInterval?: boolean },
) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const run = async () => {
    let done = 0;
    try {
      done = await tick();
    } catch (err) {
      opts.log.error({ err }, `${name} failed`);
    }
    if (!stopped) timer = setTimeout(schedule, done >= opts.batch ? 0 : opts.intervalMs);
  };
  const schedule = () => {
    running = run();
  };
  if (opts.firstAfterInterval) timer = setTimeout(schedule, opts.intervalMs);
  else schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
