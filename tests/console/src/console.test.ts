/**
 * The web console (/console) in a real browser: Debian's Chromium driven by playwright-core, against
 * a whole system in this process (the integration tests' startStack) with keys required. Live
 * updates come from the event feed (GET /events); nothing here reloads the page. Writes the README's
 * screenshots to docs/console/.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachVolumeCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  DescribeVolumesCommand,
} from "@aws-sdk/client-ec2";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsole, consoleStale } from "../../../packages/console/build.ts";
import { ec2Client } from "../../integration/src/ec2-helpers.ts";
import { client, type Stack, startStack } from "../../integration/src/harness.ts";
import { ADMIN_KEY, authEnv, keyed, newTenant } from "../../integration/src/tenancy-helpers.ts";

const workspaceRoot = join(import.meta.dirname, "../../..");
const screenshots = join(workspaceRoot, "docs/console");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** How long one wait in the page may take. */
const WAIT = 8_000;

let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];
let tenantA: { id: string; key: string };
let tenantB: { id: string; key: string };

/** Polls `read` until `accept` holds, within WAIT. */
async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + WAIT;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)} after ${WAIT} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A page on the console with `key` typed into its key field, the feed live. */
async function openConsole(key: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(`${stack.url}/console`);
  await page.getByLabel("API key", { exact: true }).fill(key);
  await page.getByRole("button", { name: "Use key" }).click();
  await expect.poll(() => page.getByTestId("feed-status").textContent(), { timeout: WAIT }).toContain("live");
  return page;
}

const rowOf = (page: Page, id: string) => page.locator(`tr[data-server-id="${id}"]`);
const stateOf = (row: Locator) => row.getAttribute("data-state");
const billOf = async (row: Locator) => Number.parseFloat((await row.getByTestId("bill").textContent()) ?? "");
/** The cells of a row, once it is there. */
const cellsOf = async (row: Locator) => {
  await row.waitFor();
  return row.locator("th, td").allTextContents();
};
const freeIn = async (page: Page, region: string) =>
  Number((await page.locator(`tr[data-region="${region}"]`).getByTestId("free").textContent()) ?? "NaN");

beforeAll(async () => {
  if (!existsSync(chromiumPath))
    throw new Error(`no Chromium at ${chromiumPath}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  if (consoleStale()) await buildConsole();
  stack = await startStack({
    env: {
      ...authEnv,
      PROVISION_DELAY: "1500ms",
      STOP_DELAY: "700ms",
      START_DELAY: "700ms",
      REBOOT_DELAY: "700ms",
      TERMINATE_DELAY: "700ms",
      IP_REUSE_COOLDOWN: "0s",
      VOLUME_CREATE_DELAY: "300ms",
      VOLUME_ATTACH_DELAY: "300ms",
      // A feed's answer starts with its first bytes: a heartbeat soon after it opens.
      EVENTS_HEARTBEAT: "500ms",
    },
  });
  tenantA = await newTenant(stack.url, "console-a");
  tenantB = await newTenant(stack.url, "console-b");
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
  });
  mkdirSync(screenshots, { recursive: true });
}, 60_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await stack?.stop();
});

describe("the console", () => {
  it("is served without a key, with its assets cached and kept out of the API document", async () => {
    const api = client(stack.url);
    const index = await api.get("/console");
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toMatch(/^text\/html/);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect((await api.get("/console/")).status).toBe(200);
    const asset = /\/console\/assets\/[^"]+\.js/.exec(String(index.body))?.[0];
    expect(asset).toBeDefined();
    const script = await api.get(asset as string);
    expect(script.status).toBe(200);
    expect(script.headers.get("cache-control")).toContain("immutable");
    expect((await api.get("/console/assets/nothing.js")).status).toBe(404);
    const doc = await api.get("/openapi.json");
    expect(Object.keys(doc.body.paths).filter((p) => p.startsWith("/console"))).toEqual([]);
  });

  it("provisions, shows live states and bills, stops, refuses what is not allowed, terminates", async () => {
    const page = await openConsole(tenantA.key);
    const freeBefore = await until(
      () => freeIn(page, "eu-west-1"),
      (n) => n > 0,
      "eu-west-1's free count",
    );

    // Provision from the form: the row appears in provisioning, then running, with no reload.
    const form = page.getByRole("form", { name: "Provision a server" });
    await form.getByLabel("Region").selectOption("eu-west-1");
    await form.getByLabel("Type").selectOption("t2.micro");
    await form.getByLabel("Tags").fill("env=test, team=console");
    const created = page.waitForResponse(
      (r) => r.url().endsWith("/servers") && r.request().method() === "POST",
    );
    await form.getByRole("button", { name: "Provision" }).click();
    const server = await (await created).json();
    expect(server.state).toBe("provisioning");
    const row = rowOf(page, server.id);
    await expect.poll(() => stateOf(row), { timeout: WAIT }).toBe("provisioning");
    await expect.poll(() => stateOf(row), { timeout: WAIT }).toBe("running");
    await expect.poll(() => row.locator("td").nth(3).textContent(), { timeout: WAIT }).toMatch(/^10\.2\./);
    expect(await row.textContent()).toContain("env=test");
    await expect
      .poll(() => page.getByRole("status").textContent(), { timeout: WAIT })
      .toContain("provisioned");
    await expect.poll(() => freeIn(page, "eu-west-1"), { timeout: WAIT }).toBe(freeBefore - 1);

    // The bill ticks while it runs.
    const first = await until(
      () => billOf(row),
      (n) => Number.isFinite(n),
      "a bill",
    );
    await expect.poll(() => billOf(row), { timeout: WAIT }).toBeGreaterThan(first);

    // A few more servers, for the screenshot, then the fleet and one server's page.
    const api = keyed(stack.url, tenantA.key);
    for (const [region, type, tags] of [
      ["us-east-1", "m5.large", { env: "prod" }],
      ["eu-central-1", "t2.small", { env: "staging", team: "data" }],
    ] as const)
      expect((await api.post("/servers", { region, type, tags })).status).toBe(201);
    await expect.poll(() => page.locator("tbody tr[data-state=running]").count(), { timeout: WAIT }).toBe(3);
    await page.screenshot({ path: join(screenshots, "fleet.png") });

    // The filters: by region (the API's), by tag key:value (the API's) or a key alone (the page's).
    const filters = page.getByRole("form", { name: "Filter the fleet" });
    const servers = page.locator("table.servers tbody tr");
    await filters.getByLabel("Region").selectOption("eu-central-1");
    await expect.poll(() => servers.count(), { timeout: WAIT }).toBe(1);
    await filters.getByLabel("Region").selectOption("");
    for (const [tag, count] of [
      ["team:console", 1],
      ["team", 2],
      ["", 3],
    ] as const) {
      await filters.getByLabel("Tag").fill(tag);
      await filters.getByLabel("Tag").press("Enter");
      await expect.poll(() => servers.count(), { timeout: WAIT }).toBe(count);
    }
    await filters.getByLabel("State").selectOption("stopped");
    await expect.poll(() => servers.count(), { timeout: WAIT }).toBe(0);
    await filters.getByLabel("State").selectOption("");
    await expect.poll(() => servers.count(), { timeout: WAIT }).toBe(3);

    // An action the state does not allow: the API's 409, as it said it.
    await row.getByRole("button", { name: `start ${server.name}` }).click();
    const status = page.getByRole("status");
    await expect.poll(() => status.textContent(), { timeout: WAIT }).toContain("409 CONFLICT");
    expect(await status.textContent()).toContain("cannot start a server that is running; allowed now:");

    // Stop: the row goes stopping → stopped, and the bill stops growing.
    await row.getByRole("button", { name: `stop ${server.name}` }).click();
    await expect.poll(() => stateOf(row), { timeout: WAIT }).toBe("stopped");
    await page.waitForTimeout(1200);
    const stopped = await billOf(row);
    expect(stopped).toBeGreaterThan(0);
    await page.waitForTimeout(1500);
    expect(await billOf(row)).toBe(stopped);

    // The server's own page: its log and ledger, and the transitions as they happen.
    await row.getByRole("button", { name: server.name, exact: true }).click();
    const detail = page.getByTestId("server-detail");
    await expect.poll(() => detail.textContent(), { timeout: WAIT }).toContain("ip.allocated");
    await expect
      .poll(() => detail.getByTestId("ledger-total").textContent(), { timeout: WAIT })
      .toMatch(/^[1-9]|0\.0*[1-9]/);
    await row.getByRole("button", { name: `start ${server.name}` }).click();
    await expect.poll(() => stateOf(row), { timeout: WAIT }).toBe("running");
    await expect.poll(() => detail.locator(".transitions li").count(), { timeout: WAIT }).toBe(2);
    expect(await detail.locator(".transitions").textContent()).toContain("starting → running");
    await page.screenshot({ path: join(screenshots, "server.png") });

    // Terminate: the row leaves the fleet and the region's free count comes back.
    await row.getByRole("button", { name: `terminate ${server.name}` }).click();
    await expect.poll(() => row.count(), { timeout: WAIT }).toBe(0);
    await expect.poll(() => freeIn(page, "eu-west-1"), { timeout: WAIT }).toBe(freeBefore);
  });

  it("shows another tenant none of the first tenant's servers, live or listed", async () => {
    const pageB = await openConsole(tenantB.key);
    const api = keyed(stack.url, tenantA.key);
    const made = await api.post("/servers", { region: "us-west-2", type: "t2.nano" });
    expect(made.status).toBe(201);
    // A server of B's own shows up live, so B's feed works while A's stays out of sight.
    const own = await keyed(stack.url, tenantB.key).post("/servers", {
      region: "us-west-2",
      type: "t2.nano",
    });
    expect(own.status).toBe(201);
    await expect.poll(() => stateOf(rowOf(pageB, own.body.id)), { timeout: WAIT }).toBe("running");
    const mine = (await api.get("/servers?limit=100")).body.items.map((s: { id: string }) => s.id);
    expect(mine.length).toBeGreaterThan(0);
    const shown = await pageB
      .locator("table.servers tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-server-id")));
    expect(shown).toEqual([own.body.id]);
    expect(shown.filter((id) => mine.includes(id))).toEqual([]);
  });

  it("asks for a key when the gateway needs one; the admin key sees every tenant's servers", async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${stack.url}/console`);
    await expect
      .poll(() => page.getByRole("alert").first().textContent(), { timeout: WAIT })
      .toContain("401 UNAUTHORIZED");
    await expect
      .poll(() => page.getByTestId("vpcs").getByRole("alert").textContent(), { timeout: WAIT })
      .toContain("Could not read the VPCs: 401 UNAUTHORIZED");
    // The admin key sees every tenant's servers.
    await page.getByLabel("API key", { exact: true }).fill(ADMIN_KEY);
    await page.getByRole("button", { name: "Use key" }).click();
    await expect
      .poll(() => page.locator("table.servers tbody tr").count(), { timeout: WAIT })
      .toBeGreaterThan(2);
  });
});

describe("the console's network & storage", () => {
  it("lists a region's VPCs, subnets, groups, addresses, volumes and key pairs in pages, a server's volumes, and none to another tenant", async () => {
    const owner = await newTenant(stack.url, "console-network");
    const ec2 = ec2Client(stack.url, owner);
    const vpc =
      (
        await ec2.send(
          new CreateVpcCommand({
            CidrBlock: "10.60.0.0/16",
            TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "Name", Value: "console-vpc" }] }],
          }),
        )
      ).Vpc?.VpcId ?? "";
    const subnet =
      (
        await ec2.send(
          new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.60.1.0/24", AvailabilityZone: "us-east-1b" }),
        )
      ).Subnet?.SubnetId ?? "";
    const group =
      (
        await ec2.send(
          new CreateSecurityGroupCommand({ GroupName: "console-web", Description: "web", VpcId: vpc }),
        )
      ).GroupId ?? "";
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: group,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    const address = await ec2.send(new AllocateAddressCommand({ Domain: "vpc" }));
    const volume =
      (
        await ec2.send(
          new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 7, VolumeType: "gp3" }),
        )
      ).VolumeId ?? "";
    // One more key pair than a page of the console's (25): the rest comes on "more".
    const keyNames = Array.from({ length: 26 }, (_, i) => `console-key-${String(i).padStart(2, "0")}`);
    const fingerprints = new Map<string, string>();
    for (const name of keyNames)
      fingerprints.set(
        name,
        (await ec2.send(new CreateKeyPairCommand({ KeyName: name, KeyType: "ed25519" }))).KeyFingerprint ??
          "",
      );

    const page = await openConsole(owner.key);
    const network = page.getByTestId("network");
    const rowIn = (list: string, id: string) => network.getByTestId(list).locator(`tr[data-id="${id}"]`);
    expect(await cellsOf(rowIn("vpcs", vpc))).toEqual([vpc, "10.60.0.0/16", "no", "console-vpc"]);
    expect(await cellsOf(rowIn("subnets", subnet))).toEqual([
      subnet,
      vpc,
      "us-east-1b",
      "10.60.1.0/24",
      "251",
    ]);
    const groupCells = await cellsOf(rowIn("security-groups", group));
    expect(groupCells.slice(0, 3)).toEqual([group, "console-web", vpc]);
    expect(groupCells[3]).toContain("in tcp:22 from 0.0.0.0/0");
    expect(groupCells[3]).toContain("out all to 0.0.0.0/0");
    expect(await rowIn("security-groups", group).getByTestId("rule-count").textContent()).toBe("2");
    expect(await cellsOf(rowIn("addresses", address.AllocationId ?? ""))).toEqual([
      address.PublicIp,
      address.AllocationId,
      "—",
    ]);
    const volumeRow = rowIn("volumes", volume);
    expect((await cellsOf(volumeRow)).slice(0, 3)).toEqual([volume, "7 GiB", "gp3"]);
    expect(await volumeRow.getByTestId("attachment").textContent()).toBe("—");

    // Key pairs a page at a time: 25, then the last one on "more", and no more to read.
    const keyRows = network.getByTestId("key-pairs").locator("tbody tr");
    await expect.poll(() => keyRows.count(), { timeout: WAIT }).toBe(25);
    const firstKey = (await keyRows.first().getAttribute("data-id")) ?? "";
    expect(await cellsOf(rowIn("key-pairs", firstKey))).toEqual([
      "console-key-00",
      "ed25519",
      fingerprints.get("console-key-00"),
    ]);
    await network.getByRole("button", { name: "More key pairs" }).click();
    await expect.poll(() => keyRows.count(), { timeout: WAIT }).toBe(26);
    expect(await keyRows.locator("th").allTextContents()).toEqual(keyNames);
    expect(await network.getByRole("button", { name: "More key pairs" }).count()).toBe(0);

    // A server launched in the region: its root volume shows up after its events, with no button.
    const rest = keyed(stack.url, owner.key);
    const made = await rest.post("/servers", { region: "us-east-1", type: "t2.nano", name: "vol-host" });
    expect(made.status).toBe(201);
    const instanceId: string = made.body.instance_id;
    await expect.poll(() => stateOf(rowOf(page, made.body.id)), { timeout: WAIT }).toBe("running");
    await expect
      .poll(() => network.getByTestId("volumes").textContent(), { timeout: WAIT })
      .toContain(`${instanceId} /dev/xvda`);

    // The volume attached and the address associated through the EC2 API: Refresh shows both.
    await until(
      async () => (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volume] }))).Volumes?.[0]?.State,
      (state) => state === "available",
      "the volume",
    );
    await ec2.send(new AttachVolumeCommand({ VolumeId: volume, InstanceId: instanceId, Device: "/dev/sdf" }));
    await ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: instanceId }),
    );
    await until(
      async () =>
        (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volume] }))).Volumes?.[0]?.Attachments?.[0]
          ?.State,
      (state) => state === "attached",
      "the attachment",
    );
    await network.getByRole("button", { name: "Refresh" }).click();
    await expect
      .poll(() => volumeRow.getByTestId("attachment").textContent(), { timeout: WAIT })
      .toBe(`${instanceId} /dev/sdf`);
    await expect
      .poll(async () => (await cellsOf(rowIn("addresses", address.AllocationId ?? "")))[2], { timeout: WAIT })
      .toContain(instanceId);
    await network.screenshot({ path: join(screenshots, "network.png") });

    // The server's own page: its volumes, root and attached, from its region's volumes.
    await rowOf(page, made.body.id).getByRole("button", { name: "vol-host", exact: true }).click();
    const detail = page.getByTestId("server-detail");
    const serverVolumes = detail.getByTestId("server-volumes").locator("tbody tr");
    await expect.poll(() => serverVolumes.count(), { timeout: WAIT }).toBe(2);
    expect((await cellsOf(detail.locator(`tr[data-id="${volume}"]`))).slice(0, 4)).toEqual([
      "/dev/sdf",
      volume,
      "7 GiB",
      "gp3",
    ]);
    expect(
      await serverVolumes.evaluateAll((rows) => rows.map((r) => r.querySelector("td")?.textContent)),
    ).toEqual(["/dev/sdf", "/dev/xvda"]);
    expect(await detail.getByTestId("server-volumes-scope").textContent()).toBe(
      "Looked through every volume in us-east-1 (2).",
    );

    // Another tenant's key, same region: the default VPC every tenant has, none of the owner's.
    const other = await openConsole(tenantB.key);
    const theirs = other.getByTestId("network");
    await expect.poll(() => theirs.locator('table[aria-busy="true"]').count(), { timeout: WAIT }).toBe(0);
    for (const list of ["key-pairs", "volumes", "addresses"])
      expect(await theirs.getByTestId(list).locator("tbody").textContent()).toBe("none in this region");
    const shown = (await theirs.textContent()) ?? "";
    for (const id of [vpc, subnet, group, address.AllocationId ?? "", volume, instanceId, "console-key-"])
      expect(shown).not.toContain(id);
  });
});

describe("the console on a simulated clock", () => {
  let clocked: Stack;
  beforeAll(async () => {
    clocked = await startStack({
      env: {
        ADMIN_API_KEY: ADMIN_KEY,
        CLOCK: "simulated",
        CLOCK_START: "2030-01-01T00:00:00.000Z",
        CLOCK_RATE: "0",
        EVENTS_HEARTBEAT: "500ms",
      },
    });
  }, 60_000);
  afterAll(async () => {
    await clocked?.stop();
  });

  it("runs the README's EventSource example as printed, on the gateway's origin", async () => {
    const readme = readFileSync(join(workspaceRoot, "README.md"), "utf8");
    const example =
      /<!-- events-browser-example:start -->\n```js\n([\s\S]*?)```\n<!-- events-browser-example:end -->/.exec(
        readme,
      )?.[1];
    expect(example, "the README's events-browser-example block").toBeDefined();
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const logged: string[] = [];
    page.on("console", (message) => logged.push(message.text()));
    await page.goto(`${clocked.url}/console`);
    await page.evaluate(`${example}\nwindow.readmeFeed = { seen, feed };`);
    await expect.poll(() => page.evaluate("window.readmeFeed.feed.readyState"), { timeout: WAIT }).toBe(1); // OPEN
    const created = await client(clocked.url).post("/servers", { region: "us-east-1", type: "t2.micro" });
    expect(created.status).toBe(201);
    await expect
      .poll(() => logged.some((line) => line === `${created.body.id}: new → provisioning`), { timeout: WAIT })
      .toBe(true);
    await page.evaluate("window.readmeFeed.feed.close()");
  });

  it("shows the clock, the API's 403 without the admin key, and advances it with the key", async () => {
    const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    await page.goto(`${clocked.url}/console`);
    const panel = page.getByRole("region", { name: "Simulated clock" });
    await expect
      .poll(() => panel.locator("time").textContent(), { timeout: WAIT })
      .toBe("2030-01-01 00:00:00");
    // Without a key the caller is the tenant `default`: the admin route's 403, as the API says it.
    await panel.getByRole("button", { name: "+1h" }).click();
    const status = page.getByRole("status");
    await expect.poll(() => status.textContent(), { timeout: WAIT }).toContain("403 FORBIDDEN");
    expect(await status.textContent()).toContain("this route needs the admin key");
    await page.getByLabel("API key", { exact: true }).fill(ADMIN_KEY);
    await page.getByRole("button", { name: "Use key" }).click();
    await panel.getByRole("button", { name: "+1h" }).click();
    await expect.poll(() => status.textContent(), { timeout: WAIT }).toContain("clock advanced 1h");
    await expect
      .poll(() => panel.locator("time").textContent(), { timeout: WAIT })
      .toBe("2030-01-01 01:00:00");
  });
});
