import { z } from "zod";
import { defineCommand } from "./command.ts";
import { Ec2Tags } from "./instances.ts";
import { ResourceScope, RetagReply, RetagRequest, TagListReply, TagListRequest } from "./resource-tags.ts";
import { Timestamp } from "./timestamp.ts";

/** The key pairs one tenant holds in one region, as EC2's quota has it. */
export const MAX_KEY_PAIRS = 5000;
/** The most key pairs one describe page holds (each, with its public key and tags, under 25 KB). */
export const MAX_KEY_PAIR_PAGE = 40;

export const KeyType = z.enum(["rsa", "ed25519"]);
export type KeyType = z.infer<typeof KeyType>;

/** A key pair's id: key- and 17 hex digits, the last 17 of its UUID. */
export const KeyPairId = z.string().regex(/^key-[0-9a-f]{17}$/);
/** EC2's key names: 1 to 255 ASCII characters. */
export const KeyName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x20-\x7e]+$/, "key names are ASCII");

/** A key pair as lifecycle keeps it: the public half only (the private key is never stored). */
export const KeyPair = z.object({
  key_pair_id: KeyPairId,
  key_name: z.string(),
  key_type: KeyType,
  fingerprint: z.string(),
  /** The OpenSSH line: `ssh-rsa AAAA… comment`. */
  public_key: z.string(),
  tags: z.record(z.string(), z.string()),
  created_at: Timestamp,
});
export type KeyPair = z.infer<typeof KeyPair>;

/** DescribeKeyPairs' filters, besides `tag:<key>`. */
export const keyPairFilterNames = ["key-name", "key-pair-id", "fingerprint", "key-type", "tag-key"] as const;

export const KeyPairFilter = z.object({
  name: z.union([z.enum(keyPairFilterNames), z.string().regex(/^tag:.{1,128}$/s)]),
  values: z.array(z.string().max(256)).min(1).max(200),
});
export type KeyPairFilter = z.infer<typeof KeyPairFilter>;

const Names = z.array(z.string().max(255)).min(1).max(MAX_KEY_PAIRS);

/** Key pairs, answered by lifecycle (EC2's CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair). */
export const keyPairs = {
  /** Keeps a key pair the gateway made or was given; CONFLICT (key_pair_duplicate) when the name is taken. */
  create: defineCommand("lifecycle", "key_pair_create", {
    request: z.object({
      tenant_id: z.string().min(1).max(64),
      region: ResourceScope.region,
      key_name: KeyName,
      key_type: KeyType,
      fingerprint: z.string().min(1).max(100),
      public_key: z.string().min(1).max(4096),
      tags: Ec2Tags.default({}),
    }),
    reply: KeyPair,
  }),
  /** A page of key pairs by name; names or ids not found: NOT_FOUND naming the first. */
  describe: defineCommand("lifecycle", "key_pairs_describe", {
    request: z.object({
      ...ResourceScope,
      names: Names.optional(),
      ids: Names.optional(),
      filters: z.array(KeyPairFilter).max(50).default([]),
      limit: z.number().int().min(1).max(MAX_KEY_PAIR_PAGE),
      cursor: z.string().max(400).optional(),
    }),
    reply: z.object({ items: z.array(KeyPair), next_cursor: z.string().nullable() }),
  }),
  /** Deletes a key pair by name or id; one that is not there is no error (EC2 answers success). */
  delete: defineCommand("lifecycle", "key_pair_delete", {
    request: z
      .object({
        ...ResourceScope,
        key_name: z.string().max(255).optional(),
        key_pair_id: z.string().max(100).optional(),
      })
      .refine((r) => (r.key_name === undefined) !== (r.key_pair_id === undefined), "a name or an id"),
    reply: z.object({ key_pair_id: KeyPairId.nullable() }),
  }),
  tag: defineCommand("lifecycle", "key_pairs_tag", { request: RetagRequest, reply: RetagReply }),
  tags: defineCommand("lifecycle", "key_pairs_tags", { request: TagListRequest, reply: TagListReply }),
};
