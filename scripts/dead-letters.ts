/**
 * `npx tsx scripts/dead-letters.ts list [CONSUMER]` prints the events the consumers gave up on
 * (the `<prefix>DEAD_LETTERS` stream, see consumeEvents), oldest first; `replay SEQ` publishes
 * dead letter SEQ again on its event's subject and deletes it, once the consumer is fixed.
 * It connects as the services do (NATS_URL, NATS_USER, NATS_PASSWORD, NATS_SUBJECT_PREFIX), as
 * a user that may read that stream and publish events: see docs/runbook.md#eventsdeadlettered.
 */
import {
  baseConfig,
  ConfigError,
  connectBus,
  createLogger,
  listDeadLetters,
  loadConfig,
  replayDeadLetter,
} from "@cloudsim/shared";

const USAGE = "usage: npx tsx scripts/dead-letters.ts list [CONSUMER] | replay SEQ\n";
const LISTED = 1_000;

const [command, argument] = process.argv.slice(2);
const seq = Number(argument);
if (!(command === "list" || (command === "replay" && Number.isSafeInteger(seq) && seq > 0))) {
  process.stderr.write(USAGE);
  process.exit(2);
}
let config: ReturnType<typeof loadConfig<typeof baseConfig>>;
try {
  config = loadConfig(baseConfig);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
const bus = await connectBus("dead-letters", config, createLogger("dead-letters", "warn"));
try {
  if (command === "list") {
    for (const letter of await listDeadLetters(bus, { consumer: argument, limit: LISTED }))
      process.stdout.write(`${JSON.stringify(letter)}\n`);
  } else {
    const letter = await replayDeadLetter(bus, seq);
    process.stdout.write(`replayed ${seq} on ${letter.subject} (given up on by ${letter.consumer})\n`);
  }
} finally {
  await bus.close();
}
