import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import {
  CreateKeyPairCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteKeyPairCommand,
  DeleteTagsCommand,
  DescribeKeyPairsCommand,
  DescribeTagsCommand,
  ImportKeyPairCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { DEFAULT_AMI, ec2Env, ec2Tenant, expectEc2Error, launch } from "./ec2-helpers.ts";
import { useStack } from "./harness.ts";

/** An SSH wire string: a 4-byte length and the bytes. */
function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** An SSH mpint of an unsigned big-endian number (base64url, as a JWK holds it). */
function sshMpint(b64: string): Buffer {
  const raw = Buffer.from(b64, "base64url");
  return sshString((raw[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), raw]) : raw);
}

/** An ed25519 public key as an OpenSSH line, made here, and the fingerprint ssh-keygen gives it. */
function ed25519Line(comment: string) {
  const raw = Buffer.from(
    generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x ?? "",
    "base64url",
  );
  const blob = Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(raw)]);
  return {
    line: `ssh-ed25519 ${blob.toString("base64")} ${comment}`,
    fingerprint: createHash("sha256").update(blob).digest("base64").replace(/=+$/, ""),
  };
}

/** What lifecycle stored for every key pair, each column as text. */
async function storedKeyPairs(url: string): Promise<string> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return JSON.stringify((await db.query("SELECT * FROM lifecycle.key_pairs")).rows);
  } finally {
    await db.end();
  }
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe("EC2 key pairs through the AWS SDK", () => {
  const s = useStack({ env: ec2Env });

  it("creates RSA and ed25519 keys, answering the private key once with EC2's fingerprint", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "keys-create");
    const rsa = await ec2.send(
      new CreateKeyPairCommand({
        KeyName: "deploy",
        TagSpecifications: [{ ResourceType: "key-pair", Tags: [{ Key: "team", Value: "ops" }] }],
      }),
    );
    expect(rsa.KeyPairId).toMatch(/^key-[0-9a-f]{17}$/);
    expect(rsa.KeyMaterial).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const der = createPrivateKey(rsa.KeyMaterial ?? "").export({ type: "pkcs8", format: "der" });
    const sha1 = createHash("sha1").update(der).digest("hex").match(/../g)?.join(":");
    expect(rsa.KeyFingerprint).toBe(sha1);
    expect(rsa.Tags).toEqual([{ Key: "team", Value: "ops" }]);

    const ed = await ec2.send(new CreateKeyPairCommand({ KeyName: "edge", KeyType: "ed25519" }));
    expect(ed.KeyMaterial).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    expect(ed.KeyFingerprint).toMatch(/^[A-Za-z0-9+/]{43}$/);

    const described = await ec2.send(new DescribeKeyPairsCommand({ IncludePublicKey: true }));
    expect(described.KeyPairs?.map((k) => [k.KeyName, k.KeyType, k.KeyFingerprint])).toEqual([
      ["deploy", "rsa", rsa.KeyFingerprint],
      ["edge", "ed25519", ed.KeyFingerprint],
    ]);
    const [deploy] = described.KeyPairs ?? [];
    expect(deploy).toMatchObject({ KeyPairId: rsa.KeyPairId, Tags: [{ Key: "team", Value: "ops" }] });
    expect(deploy?.CreateTime).toBeInstanceOf(Date);
    // The public key shown is the private key's own half.
    const jwk = createPublicKey(rsa.KeyMaterial ?? "").export({ format: "jwk" });
    const blob = Buffer.concat([
      sshString(Buffer.from("ssh-rsa")),
      sshMpint(jwk.e ?? ""),
      sshMpint(jwk.n ?? ""),
    ]);
    expect(deploy?.PublicKey).toBe(`ssh-rsa ${blob.toString("base64")} deploy`);
    const [withoutKey] =
      (await ec2.send(new DescribeKeyPairsCommand({ KeyNames: ["deploy"] }))).KeyPairs ?? [];
    expect(withoutKey?.PublicKey).toBeUndefined();
    // lifecycle keeps the public half only.
    const stored = await storedKeyPairs(s.stack.database.url);
    expect(stored).toContain(deploy?.PublicKey?.split(" ")[1]);
    expect(stored).not.toMatch(/PRIVATE KEY/);
  });

  it("imports an OpenSSH key with the fingerprint EC2 gives imported keys, and refuses anything else", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "keys-import");
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = publicKey.export({ format: "jwk" });
    const blob = Buffer.concat([
      sshString(Buffer.from("ssh-rsa")),
      sshMpint(jwk.e ?? ""),
      sshMpint(jwk.n ?? ""),
    ]);
    const md5 = createHash("md5")
      .update(publicKey.export({ type: "spki", format: "der" }))
      .digest("hex")
      .match(/../g)
      ?.join(":");
    const imported = await ec2.send(
      new ImportKeyPairCommand({
        KeyName: "laptop",
        PublicKeyMaterial: bytes(`ssh-rsa ${blob.toString("base64")} me@laptop\n`),
      }),
    );
    expect(imported).toMatchObject({ KeyName: "laptop", KeyFingerprint: md5 });
    expect(imported.KeyPairId).toMatch(/^key-[0-9a-f]{17}$/);

    const ed = ed25519Line("me@phone");
    const phone = await ec2.send(
      new ImportKeyPairCommand({ KeyName: "phone", PublicKeyMaterial: bytes(ed.line) }),
    );
    expect(phone.KeyFingerprint).toBe(ed.fingerprint);
    const [shown] =
      (await ec2.send(new DescribeKeyPairsCommand({ KeyNames: ["phone"], IncludePublicKey: true })))
        .KeyPairs ?? [];
    expect(shown).toMatchObject({ KeyType: "ed25519", PublicKey: ed.line });

    for (const bad of ["ssh-dss AAAAB3NzaC1kc3M=", "-----BEGIN PUBLIC KEY-----", "not a key at all"]) {
      await expectEc2Error(
        ec2.send(new ImportKeyPairCommand({ KeyName: "bad", PublicKeyMaterial: bytes(bad) })),
        "InvalidKey.Format",
      );
    }
    await expectEc2Error(
      ec2.send(new ImportKeyPairCommand({ KeyName: "laptop", PublicKeyMaterial: bytes(ed.line) })),
      "InvalidKeyPair.Duplicate",
    );
  });

  it("refuses a duplicate name, a ppk key and an unknown type; deletes by name or id, absent ones too", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "keys-delete");
    const first = await ec2.send(new CreateKeyPairCommand({ KeyName: "one" }));
    await expectEc2Error(ec2.send(new CreateKeyPairCommand({ KeyName: "one" })), "InvalidKeyPair.Duplicate");
    const ppk = await expectEc2Error(
      ec2.send(new CreateKeyPairCommand({ KeyName: "putty", KeyFormat: "ppk" })),
      "InvalidParameterValue",
    );
    expect(ppk.message).toMatch(/pem/);
    await expectEc2Error(
      ec2.send(new CreateKeyPairCommand({ KeyName: "dsa", KeyType: "dsa" as never })),
      "InvalidParameterValue",
    );
    await expectEc2Error(
      ec2.send(new DescribeKeyPairsCommand({ KeyNames: ["one", "two"] })),
      "InvalidKeyPair.NotFound",
    );
    await expectEc2Error(
      ec2.send(new DescribeKeyPairsCommand({ KeyPairIds: ["key-0123456789abcdef0"] })),
      "InvalidKeyPair.NotFound",
    );
    await ec2.send(new CreateKeyPairCommand({ KeyName: "two" }));

    await ec2.send(new DeleteKeyPairCommand({ KeyPairId: first.KeyPairId }));
    await ec2.send(new DeleteKeyPairCommand({ KeyName: "two" }));
    // Already gone, or never there: EC2 answers success.
    await ec2.send(new DeleteKeyPairCommand({ KeyName: "two" }));
    await ec2.send(new DeleteKeyPairCommand({ KeyPairId: "key-0123456789abcdef0" }));
    expect((await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs).toEqual([]);
  });

  it("filters by name, id, fingerprint, type and tags, and keeps each tenant's and region's apart", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "keys-filters");
    const web = await ec2.send(
      new CreateKeyPairCommand({
        KeyName: "web-1",
        TagSpecifications: [{ ResourceType: "key-pair", Tags: [{ Key: "env", Value: "prod" }] }],
      }),
    );
    await ec2.send(new CreateKeyPairCommand({ KeyName: "web-2", KeyType: "ed25519" }));
    await ec2.send(
      new CreateKeyPairCommand({
        KeyName: "db-1",
        TagSpecifications: [{ ResourceType: "key-pair", Tags: [{ Key: "env", Value: "dev" }] }],
      }),
    );
    const names = async (Filters: { Name: string; Values: string[] }[]) =>
      ((await ec2.send(new DescribeKeyPairsCommand({ Filters }))).KeyPairs ?? []).map((k) => k.KeyName);
    expect(await names([{ Name: "key-name", Values: ["web-*"] }])).toEqual(["web-1", "web-2"]);
    expect(await names([{ Name: "key-type", Values: ["ed25519"] }])).toEqual(["web-2"]);
    expect(await names([{ Name: "key-pair-id", Values: [web.KeyPairId ?? ""] }])).toEqual(["web-1"]);
    expect(await names([{ Name: "fingerprint", Values: [web.KeyFingerprint ?? ""] }])).toEqual(["web-1"]);
    expect(await names([{ Name: "tag:env", Values: ["prod", "dev"] }])).toEqual(["db-1", "web-1"]);
    expect(
      await names([
        { Name: "tag-key", Values: ["env"] },
        { Name: "key-name", Values: ["web-?"] },
      ]),
    ).toEqual(["web-1"]);
    await expectEc2Error(names([{ Name: "colour", Values: ["blue"] }]), "InvalidParameterValue");

    const other = await ec2Tenant(s.stack.url, "keys-other");
    expect((await other.ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs).toEqual([]);
    await other.ec2.send(new CreateKeyPairCommand({ KeyName: "web-1" }));
    const elsewhere = await ec2Tenant(s.stack.url, "keys-region", "eu-west-1");
    expect((await elsewhere.ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs).toEqual([]);
  });

  it("launches with a key pair the tenant holds, and refuses an unknown one", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "keys-run");
    await expectEc2Error(
      ec2.send(
        new RunInstancesCommand({
          ImageId: DEFAULT_AMI,
          InstanceType: "t2.nano",
          MinCount: 1,
          MaxCount: 1,
          KeyName: "nope",
        }),
      ),
      "InvalidKeyPair.NotFound",
    );
    await ec2.send(new CreateKeyPairCommand({ KeyName: "mine" }));
    const [id] = await launch(ec2, 1, { KeyName: "mine" });
    expect(id).toMatch(/^i-/);
  });

  it("tags key pairs and volumes with CreateTags and DeleteTags, and lists them in DescribeTags", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "keys-tags");
    const key = await ec2.send(new CreateKeyPairCommand({ KeyName: "tagged" }));
    const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 1 }));
    const ids = [key.KeyPairId ?? "", volume.VolumeId ?? ""];
    await ec2.send(new CreateTagsCommand({ Resources: ids, Tags: [{ Key: "env", Value: "prod" }] }));
    const tagsOf = async (id: string) =>
      (
        await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [id] }] }))
      ).Tags?.map((t) => [t.ResourceType, t.Key, t.Value]);
    expect(await tagsOf(ids[0] as string)).toEqual([["key-pair", "env", "prod"]]);
    expect(await tagsOf(ids[1] as string)).toEqual([["volume", "env", "prod"]]);
    const [described] =
      (await ec2.send(new DescribeKeyPairsCommand({ KeyNames: ["tagged"] }))).KeyPairs ?? [];
    expect(described?.Tags).toEqual([{ Key: "env", Value: "prod" }]);
    await ec2.send(new DeleteTagsCommand({ Resources: [ids[0] as string], Tags: [{ Key: "env" }] }));
    expect(await tagsOf(ids[0] as string)).toEqual([]);
    await expectEc2Error(
      ec2.send(
        new CreateTagsCommand({ Resources: ["key-0123456789abcdef0"], Tags: [{ Key: "a", Value: "b" }] }),
      ),
      "InvalidKeyPair.NotFound",
    );
    await expectEc2Error(
      ec2.send(
        new CreateTagsCommand({ Resources: ["vol-0123456789abcdef0"], Tags: [{ Key: "a", Value: "b" }] }),
      ),
      "InvalidVolume.NotFound",
    );
  });
});
