import { type KV, type KvEntry, Kvm } from "@nats-io/kv";
import type { Bus } from "./bus.ts";
import { type Clock, type ClockReading, realClock, SimulatedClock, simulatedAt } from "./clock.ts";
import type { ClockConfig } from "./config.ts";
import { AppError } from "./errors.ts";
import { JetStreamNotReady } from "./event-stream.ts";
import type { Logger } from "./logger.ts";
import { clockBucketName } from "./nats-names.ts";

/** The key of the one reading in the bucket. */
const CLOCK_KEY = "clock";

/** Tries at moving the clock while others move it too (compare-and-set on the key's revision). */
const MAX_ADVANCE_TRIES = 20;

export { clockBucketName } from "./nats-names.ts";

/**
 * The simulated clock of a deployment, kept in one JetStream key-value entry that every service
 * watches: it survives restarts, every replica follows the newest reading, and it only moves
 * forward (each move is a compare-and-set on the entry's revision).
 */
export class ClockStore {
  private revision = 0;

  private constructor(
    private readonly kv: KV,
    readonly clock: SimulatedClock,
    private readonly watcher: { stop(): void },
  ) {}

  /** Opens the deployment's clock, starting it (at CLOCK_START or now, at CLOCK_RATE) when it has none. */
  static async open(bus: Bus, config: ClockConfig, log: Logger): Promise<ClockStore> {
    const kv = await new Kvm(bus.js).create(clockBucketName(bus), {
      history: 1,
      replicas: bus.streamReplicas,
    });
    const entry = await readOrStart(kv, config);
    const clock = new SimulatedClock(parseReading(entry));
    const updates = await kv.watch({ key: CLOCK_KEY });
    const store = new ClockStore(kv, clock, updates);
    store.revision = entry.revision;
    void (async () => {
      for await (const update of updates) {
        try {
          store.take(update);
        } catch (err) {
          // Something else wrote the key: the clock keeps the last reading it could read.
          log.error({ err }, "the simulated clock's entry is not a reading: ignored");
        }
      }
    })().catch((err) =>
      log.error({ err }, "the simulated clock's watch ended: the clock runs on its last reading"),
    );
    if (clock.rate !== config.CLOCK_RATE) await store.move((now) => now, config.CLOCK_RATE);
    log.info(
      { clock: new Date(clock.now()).toISOString(), rate: clock.rate },
      "simulated clock (CLOCK=simulated)",
    );
    return store;
  }

  /**
   * Moves the clock to `to` (Unix ms) and returns where it now reads. A time earlier than the
   * clock's is refused (VALIDATION naming `field`): the clock never goes back.
   */
  async advanceTo(to: number, field: string): Promise<number> {
    await this.move((now) => {
      refuseBefore(to, now, field);
      return to;
    });
    return this.clock.now();
  }

  /** VALIDATION naming `field` when `to` is before the clock's time. */
  refuseBefore(to: number, field: string): void {
    refuseBefore(to, this.clock.now(), field);
  }

  /** Moves the clock to `to`, or leaves it where it is when it already reads later; returns where it reads. */
  async advanceAtLeastTo(to: number): Promise<number> {
    await this.move((now) => Math.max(now, to));
    return this.clock.now();
  }

  stop(): void {
    this.watcher.stop();
  }

  /** One compare-and-set of the reading: `target` picks the new time from the current one. */
  private async move(target: (now: number) => number, rate?: number): Promise<void> {
    for (let tries = 0; tries < MAX_ADVANCE_TRIES; tries++) {
      const entry = await this.kv.get(CLOCK_KEY);
      if (!entry) throw new AppError("UNAVAILABLE", "the simulated clock's entry is missing from its bucket");
      // An entry something else overwrote is replaced from the reading this process follows.
      const current = readingOf(entry) ?? this.clock.current;
      // real time: a reading is pinned to the real time it was taken at.
      const real = Date.now();
      const reading = { sim: target(simulatedAt(current, real)), real, rate: rate ?? current.rate };
      try {
        const revision = await this.kv.update(CLOCK_KEY, JSON.stringify(reading), entry.revision);
        this.take({ revision, reading });
        return;
      } catch (err) {
        // Another replica moved it first: read it again.
        if (!/wrong last sequence/i.test(String(err))) throw err;
      }
    }
    throw new AppError("UNAVAILABLE", `the clock kept moving under ${MAX_ADVANCE_TRIES} tries to advance it`);
  }

  /** A reading newer than the one followed (the watch and our own writes may arrive in either order). */
  private take(update: KvEntry | { revision: number; reading: ClockReading }): void {
    if (update.revision <= this.revision) return;
    const reading = "reading" in update ? update.reading : parseReading(update);
    this.revision = update.revision;
    this.clock.follow(reading);
  }
}

function refuseBefore(to: number, now: number, field: string): void {
  if (to < now)
    throw new AppError(
      "VALIDATION",
      `${field}: ${new Date(to).toISOString()} is before the clock's ${new Date(now).toISOString()}; the clock only moves forward`,
      { fields: [{ field, message: "before the clock's time" }], clock: new Date(now).toISOString() },
    );
}

/** The clock's entry, written first by whichever service starts first. */
async function readOrStart(kv: KV, config: ClockConfig): Promise<KvEntry> {
  const found = await kv.get(CLOCK_KEY);
  if (found?.value.length) return found;
  // real time: a new simulated clock starts from the real time of its first start.
  const real = Date.now();
  const start = config.CLOCK_START ? Date.parse(config.CLOCK_START) : real;
  const reading: ClockReading = { sim: start, real, rate: config.CLOCK_RATE };
  await kv.create(CLOCK_KEY, JSON.stringify(reading)).catch((err) => {
    // Another service created it between our read and our create: theirs stands.
    if (!/wrong last sequence|exists/i.test(String(err))) throw err;
  });
  const entry = await kv.get(CLOCK_KEY);
  // On a cluster the read may reach a replica that has not applied the write yet: read again.
  if (!entry) throw new JetStreamNotReady("the simulated clock's entry is not readable yet");
  return entry;
}

function parseReading(entry: KvEntry): ClockReading {
  const reading = readingOf(entry);
  if (!reading)
    throw new Error(`the simulated clock's entry is not a reading: ${entry.string().slice(0, 200)}`);
  return reading;
}

/** The entry's reading, or undefined when it holds something else. */
function readingOf(entry: KvEntry): ClockReading | undefined {
  try {
    const reading = entry.json<ClockReading>();
    return [reading.sim, reading.real, reading.rate].every(Number.isFinite) ? reading : undefined;
  } catch {
    return undefined;
  }
}

/** The clock a service's simulated things follow, as CLOCK says; `store` only when simulated. */
export async function openClock(
  bus: Bus,
  config: ClockConfig,
  log: Logger,
): Promise<{ clock: Clock; store?: ClockStore }> {
  if (config.CLOCK === "real") return { clock: realClock };
  const store = await ClockStore.open(bus, config, log);
  bus.followClock(store.clock);
  return { clock: store.clock, store };
}
