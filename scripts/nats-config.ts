/**
 * Writes ops/nats/cloudsim.conf, the NATS users and permissions Compose runs, from the contracts
 * (packages/shared/src/contracts/nats-roles.ts). Run it after changing what a service sends,
 * publishes or consumes: tests/integration/src/nats-permissions.test.ts fails until the file is current.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { natsAuthorizationConfig } from "@cloudsim/shared";
import { workspaceRoot } from "@cloudsim/shared/testing";

const file = join(workspaceRoot, "ops/nats/cloudsim.conf");
writeFileSync(file, natsAuthorizationConfig({ subjectPrefix: "" }));
process.stdout.write(`wrote ${file}\n`);
